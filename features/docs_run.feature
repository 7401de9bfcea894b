Feature: Every command and code block of the docs runs
  README, getting started, the guides and the security page are what users
  copy. Each of their code blocks runs here as a user would run it: Python
  programs and shell commands as subprocesses, with this virtualenv first on
  PATH, against the page's own `planstream serve --token reader
  --publish-token writer` (PLANSTREAM_URL names it; port 8765 in a block
  means it). What cannot run is declared right before the block with an HTML
  comment (`<!-- doc-test: fragment -->`, `<!-- doc-test: skip reason="..." -->`,
  ...; features/support/doc_blocks.py lists them), and a block without one
  must run.

  Scenario: Every code block of the docs is accounted for, and few are skipped
    Given the code blocks of the documentation pages
    Then every page of the docs with a code block to run has a row in this feature's outline
    And every block is shown only (text, json) or is python or sh with a known marker
    And at least 15 blocks run and at most 5 are skipped, each with a reason

  Scenario: The complete Python programs of the docs pass mypy --strict
    Given the code blocks of the documentation pages
    Then every complete Python block passes mypy --strict, as a user's own program would

  Scenario Outline: The code blocks of <page> run against planstream serve
    Given the page "<page>" with its own "planstream serve --token reader --publish-token writer"
    When every code block of the page runs as its marker says
    Then every block ended as declared: programs exit 0, servers served until stopped

    Examples:
      | page                              |
      | README.md                         |
      | docs/getting_started.md           |
      | docs/guide/client.md              |
      | docs/guide/cli.md                 |
      | docs/guide/server.md              |
      | docs/guide/payloads_and_resume.md |
      | docs/guide/scale_out.md           |
      | docs/security.md                  |

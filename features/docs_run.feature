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
    And no block left to run to its end starts a server or follows a plan forever
    And every planstream command quoted inline in the docs' prose uses options its command has
    And at least 15 blocks run and at most 5 are skipped, each with a reason

  Scenario: The complete Python programs of the docs pass mypy --strict
    Given the code blocks of the documentation pages
    Then every complete Python block passes mypy --strict, as a user's own program would

  Scenario: A block that fails, hangs or is wrongly marked fails the docs run, naming its line
    Then each of these pages fails the docs run with its message
      | page                                                                  | message                                     |
      | ```python\nraise SystemExit(3)\n```                                   | broken.md:1 exited 3                        |
      | ```python\nawait main()\n```                                          | broken.md:1 exited 1                        |
      | ```sh\nplanstream watch build-42 --no-such-option\n```                | broken.md:1 exited 2                        |
      | <!-- doc-test: run expect="done" -->\n```python\nprint("started")\n``` | broken.md:2 never printed 'done'           |
      | <!-- doc-test: background timeout="1" -->\n```sh\nsleep 5\n```        | broken.md:2 (background) ended with None    |
      | <!-- doc-test: server timeout="3" -->\n```python\nprint("bye")\n```   | broken.md:2 never served                    |
      | <!-- doc-test: parse-only reason="x" -->\n```sh\nplanstream plans --nope\n``` | broken.md:2: planstream plans has no --nope |
      | <!-- doc-test: skip -->\n```sh\ntrue\n```                             | broken.md:2: 'skip' needs a reason="..."    |
      | <!-- doc-test: fragment -->\n```sh\ntrue\n```                         | broken.md:2: 'fragment' is for ['python']   |
      | <!-- doc-test: later -->\n```sh\ntrue\n```                            | broken.md:1: unknown doc-test marker        |
      | <!-- doc-test: skip reason="x" -->\nsome prose\n                       | broken.md:2: a doc-test marker not followed |

  Scenario: Getting started says which install each example needs, and it is enough
    Then getting started names the install of every example, and that install provides its imports

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
      | docs/dashboard.md                 |
      | docs/security.md                  |
      | docs/guide/observability.md       |
      | docs/reliability.md               |

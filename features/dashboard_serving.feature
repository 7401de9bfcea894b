Feature: The reference server serves the browser dashboard
  With `ServerSettings(dashboard=True)` the server answers the page at `/` and
  its files at `/dashboard/...`, straight from the package, each under a strict
  Content-Security-Policy. `planstream serve` turns it on unless its option or
  `PLANSTREAM_SERVER_DASHBOARD` says no; an app mounted in another backend
  serves it only when asked, under its prefix. Every request here is real HTTP
  to a real server; the source checks read every file the package ships,
  whichever branch wrote it.

  Scenario: The page and every file it ships answer 200 with their type and the security headers
    Given a reference server with settings
      | setting   | value |
      | dashboard | true  |
    When every file the dashboard ships is fetched from the reference server
    Then each file answered 200 with its own bytes and the content type of its suffix
      | suffix | content type             |
      | .html  | text/html; charset=utf-8 |
      | .js    | text/javascript; charset=utf-8 |
      | .css   | text/css; charset=utf-8  |
      | .svg   | image/svg+xml            |
      | .png   | image/png                |
    And each answer carries these headers
      | header                  | value       |
      | x-content-type-options  | nosniff     |
      | referrer-policy         | no-referrer |
      | cache-control           | no-cache    |
    And each answer carries exactly this Content-Security-Policy
      """
      default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'
      """
    And asking for the page again with its ETag answers 304 with the same Content-Security-Policy

  Scenario: Unknown files and paths out of the dashboard's folder are the JSON 404
    Given a reference server with settings
      | setting   | value |
      | dashboard | true  |
    Then each of these paths answers the JSON 404 "not_found"
      | path                                   |
      | /dashboard/no-such-module.js           |
      | /dashboard/favicon.svg.txt             |
      | /dashboard/                            |
      | /dashboard/../settings.py              |
      | /dashboard/../../server/settings.py    |
      | /dashboard/%2e%2e/settings.py          |
      | /dashboard/%2e%2e/%2e%2e/settings.py   |
      | /dashboard/..%2f..%2fsettings.py       |
      | /dashboard/js/../../index.html         |
      | /dashboard/%2e%2e/index.html           |
      | /dashboard//etc/passwd                 |
      | /index.html                            |
      | /static/index.html                     |

  Scenario: With the dashboard off, the server has no page
    Given a reference server
    Then each of these paths answers the JSON 404 "not_found"
      | path                   |
      | /                      |
      | /dashboard/favicon.svg |

  Scenario: planstream serve serves the dashboard unless its option or its variable says no
    When these servers start together, each on a free port
      | command                         | PLANSTREAM_SERVER_DASHBOARD | dashboard |
      | planstream serve                |                             | on        |
      | planstream serve --no-dashboard |                             | off       |
      | planstream serve                | false                       | off       |
      | planstream serve                | true                        | on        |
      | planstream serve --dashboard    | false                       | on        |
      | planstream serve --no-dashboard | true                        | off       |
      | python -m planstream.server     |                             | on        |
    Then each server answers the page at / exactly when its dashboard is on, else the JSON 404
    And each server printed "planstream dashboard on http://127.0.0.1:PORT/" after its listening line exactly when its dashboard is on

  Scenario: Mounted under a prefix with dashboard=True, the page and every URL it names resolve under the prefix
    Given the server's app mounted at "/planstream" in a Starlette host served by uvicorn, with settings
      | setting   | value |
      | dashboard | true  |
    When the page "/planstream/" is loaded like a browser would: each file it names, each module those import, relative to where it was found
    Then every file loaded answered 200 under "/planstream/" with the Content-Security-Policy, at least 4 of them
    And every shipped module and style sheet was among them
    And "/planstream/v1/plans", where the page's API base leads, answers a plan list
    And "/" is still the host's own route

  Scenario: Mounted without asking, the app serves no dashboard
    Given the server's app mounted at "/planstream" in a Starlette host served by uvicorn, with its default settings
    Then each of these paths answers the JSON 404 "not_found"
      | path                              |
      | /planstream/                      |
      | /planstream/dashboard/favicon.svg |

  Scenario: Every shipped file keeps to the CSP, to text-only rendering and to relative URLs
    Given the files the dashboard ships
    Then they hold index.html, a module script and at least 4 files
    And no file has a problem: no HTML sink or string evaluation in a script, no inline script, style or event handler in markup, no absolute URL, no import or reference to a missing file
    And index.html names its module script, its style sheet and its icon by relative URLs that exist

  Scenario: The source checks find each thing they look for
    Given a dashboard folder whose files break every rule
    Then the source checks report exactly these problems
      | problem                                                              |
      | assets/js/bad.js:4: innerHTML                                        |
      | assets/js/bad.js:5: outerHTML                                        |
      | assets/js/bad.js:6: insertAdjacentHTML                               |
      | assets/js/bad.js:7: document.write                                   |
      | assets/js/bad.js:8: eval(                                            |
      | assets/js/bad.js:9: new Function                                     |
      | assets/js/bad.js:10: a string timer                                  |
      | assets/js/bad.js:11: an absolute URL '/v1/plans'                     |
      | assets/js/bad.js:12: an absolute URL 'http://example.org/'           |
      | assets/js/bad.js:13: an absolute URL '//cdn.example.org/x.js'        |
      | assets/js/bad.js:2: import of './missing.js': no such shipped file   |
      | assets/js/bad.js:3: import of 'some-package' is not relative to the module |
      | assets/notes.py: a file of a type the dashboard does not serve       |
      | index.html:1: an inline <script>                                     |
      | index.html:1: an inline <script> body                                |
      | index.html:2: <div style=...>: an inline style                       |
      | index.html:2: <div onclick=...>: an inline event handler             |
      | index.html:3: <script> names '/dashboard/js/bad.js', not a relative URL |
      | index.html:4: <link> names 'dashboard/missing.css': no such shipped file |
      | index.html:5: a <style> element                                      |
      | assets/icon.svg: a <script>                                          |

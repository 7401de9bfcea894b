Feature: A server that cannot start says why in one line
  `planstream serve`, `python -m planstream.server` and a program embedding
  `PlanStreamServer` bind their sockets before anything starts: a port in use,
  a port not allowed, an unknown host or an unreadable certificate is one line
  saying so (exit status 2 for the commands), never a traceback or an
  "internal error". The ports are held by real listening sockets.

  Scenario Outline: <command> on a port in use says so in one line and exits 2
    Given a TCP port on 127.0.0.1 that is already in use
    When the server command "<command> --port {busy_port}" runs
    Then the server command exited with status 2 and printed only "planstream: error: port {busy_port} on 127.0.0.1 is already in use (another server listens there)" on stderr

    Examples:
      | command                     |
      | planstream serve            |
      | python -m planstream.server |

  Scenario: The orchestrator example on a port in use (planstream serve running) says so in one line and exits 2
    Given a TCP port on 127.0.0.1 that is already in use
    When the server command "python examples/publish_from_orchestrator.py --port {busy_port}" runs
    Then the server command exited with status 2 and printed only "publish_from_orchestrator.py: port {busy_port} on 127.0.0.1 is already in use (another server listens there); pass --port to serve on another" on stderr

  Scenario: planstream serve without the right to bind a low port says so in one line
    When the server command "planstream serve --port {privileged_port}" runs without the right to bind ports below 1024
    Then the server command exited with status 2 and printed only "planstream: error: no permission to listen on port {privileged_port} on 127.0.0.1 (ports below 1024 need privileges)" on stderr

  Scenario Outline: planstream serve on a host it cannot listen on says so in one line: <case>
    When the server command "planstream serve --port 0 --host <host>" runs
    Then the server command exited with status 2 and printed one line starting "<line>" on stderr

    Examples:
      | case                      | host                 | line                                                                     |
      | a name that resolves not  | no-such-host.invalid | planstream: error: cannot listen on 'no-such-host.invalid': the host name does not resolve ( |
      | not this machine's        | 192.0.2.1            | planstream: error: cannot listen on 192.0.2.1: it is not an address of this machine          |

  Scenario: planstream serve with a file that is no certificate says so in one line
    Given a file "not-a-cert.pem" holding "this is no certificate"
    When the server command "planstream serve --port 0 --ssl-certfile {file}" runs
    Then the server command exited with status 2 and printed one line starting "planstream: error: cannot load the TLS certificate {file}: not a PEM certificate and private key that match (OpenSSL: " on stderr

  Scenario: An embedded server on a port in use raises ServerStartError, an OSError saying so
    Given a TCP port on 127.0.0.1 that is already in use
    When an embedded stream server is started on that port
    Then starting it raised ServerStartError "port {busy_port} on 127.0.0.1 is already in use (another server listens there)"
    And the scenario's event loop still runs

  Scenario: An embedded server whose certificate file went away raises ServerStartError naming it
    Given a file "gone.pem" holding "soon deleted"
    When an embedded stream server is started with that file as its certificate, deleted just before
    Then starting it raised ServerStartError "cannot load the TLS certificate {file}: No such file or directory"

  Scenario: An embedded server whose event log cannot start raises ServerStartError, and frees its port
    When an embedded stream server whose event log fails to start is started on a free port
    Then starting it raised ServerStartError "the server could not start on 127.0.0.1:{port} (uvicorn exit status 3; its log says why)"
    And a new socket can listen on that port

  Scenario: python -m planstream.server --help prints the help of planstream serve and starts nothing
    When the server command "python -m planstream.server --help" runs
    Then the server command exited with status 0 and printed the help of "planstream serve" as "python -m planstream.server"

  Scenario: python -m planstream.server takes the flags of planstream serve, and they win over the environment
    Given "python -m planstream.server --token flag-token" runs with PLANSTREAM_SERVER_TOKENS=env-token and PLANSTREAM_SERVER_RETENTION=3
    Then the server answers GET /v1/status with 200 for the token "flag-token" and 401 for "env-token"
    And the server keeps 3 events per plan, as PLANSTREAM_SERVER_RETENTION says

  Scenario: An embedded server that found its port in use starts on it once the port is free
    Given a port on 127.0.0.1 held by a listening socket of the scenario
    When an embedded stream server is started on that held port, and again once the socket is closed
    Then the first start raised ServerStartError "port {busy_port} on 127.0.0.1 is already in use (another server listens there)"
    And the second start serves /healthz on that port

  Scenario: planstream serve binds an IPv6 host and says where it listens
    When "planstream serve --host ::1 --port 0" runs in the background until it printed its URL
    Then it printed "planstream server listening on ws://[::1]:PORT/v1/stream" and answers /healthz at http://[::1]:PORT

  Scenario: planstream.server.serve() from a program serves until SIGTERM and exits 0
    When a program running "asyncio.run(serve(ServerSettings(port=PORT)))" serves /healthz
    And the program gets SIGTERM
    Then the program exited with status 0

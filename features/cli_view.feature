Feature: What the planstream command shows, computed without a network
  The trackers, the renderers, the URL handling and the exit statuses of the
  CLI are plain functions: here they get data and their output is read back.

  Scenario: The notices tell a connection's story, and a resume counts what it skipped
    Given trackers for the plans "p"
    When these happen to the watch, in order:
      | what  | detail                                               |
      | state | closed -> connecting                                 |
      | state | connecting -> open                                   |
      | event | p 1 plan.status running                              |
      | event | p 2 log                                              |
      | event | p 3 log                                              |
      | state | open -> reconnecting, 1012 restart, retry 0.25       |
      | state | reconnecting -> reconnecting, refused, retry 0.5     |
      | state | reconnecting -> open                                 |
      | event | p 4 log                                              |
      | state | open -> reconnecting, 1006 drop, retry 0.25          |
      | state | reconnecting -> open                                 |
      | state | open -> reconnecting, 1006 drop, retry 0.25          |
      | state | reconnecting -> open                                 |
      | event | p 7 step.status running                              |
      | state | open -> polling                                      |
      | resync | p 20 history_expired succeeded                      |
      | state | polling -> closed                                    |
    Then the watch noticed, in order:
      """
      connection: reconnecting… (1012 restart), next try in 0.2 s
      connection: reconnecting… (refused), next try in 0.5 s
      connection: reconnected; resuming each plan after its last event
      p: resumed from seq 4, 0 lost
      connection: reconnecting… (1006 drop), next try in 0.2 s
      connection: reconnected; resuming each plan after its last event
      connection: reconnecting… (1006 drop), next try in 0.2 s
      connection: reconnected; resuming each plan after its last event
      p: resumed from seq 7, 2 lost
      connection: WebSocket unavailable; polling over HTTP
      p: history lost (history_expired); resynced to seq 20
      """
    And the connection tracker counted 4 drops and keeps the last 3 notices
    And plan "p" received the seqs 1, 2, 3, 4, 7 and is "succeeded" at seq 20 after 1 resync
    And plan "p" kept the log lines of seqs 2, 3, 4

  Scenario Outline: An event becomes one plain line: <kind>
    When an event of kind "<kind>" with data <data> is described
    Then the plain line is "<line>"

    Examples:
      | kind              | data                                                                                             | line                                                |
      | plan.status       | {"status": "failed", "reason": "step 2 failed"}                                                  | [p #5] plan failed (step 2 failed)                  |
      | plan.status       | {"status": "running"}                                                                            | [p #5] plan running                                 |
      | plan.progress     | {"completed_steps": 1, "total_steps": 4, "percent": 25, "message": "fetched"}                    | [p #5] progress 25.0% (1/4 steps) fetched           |
      | step.status       | {"step_id": "b", "index": 2, "name": "Build", "status": "failed", "error": "exit 3"}             | [p #5] step 2 Build failed: exit 3                  |
      | step.status       | {"step_id": "b", "index": 2, "name": "", "status": "running"}                                    | [p #5] step 2 b running                             |
      | log               | {"level": "warning", "message": "disk 91% full", "stream": "stderr"}                             | [p #5] log warning: disk 91% full                   |
      | log               | {"level": "info", "message": "ok", "step_id": "b", "stream": "stdout"}                           | [p #5] log info b: ok                               |
      | artifact.uploaded | {"name": "report.html"}                                                                          | [p #5] artifact.uploaded {'name': 'report.html'}    |

  Scenario: A resync marker becomes one plain line and a {"resync"} JSON line
    When a resync of plan "p" for "stream_reset" at seq 12 is written as plain and JSON lines
    Then the plain line is "[p] resync (stream_reset): history lost, state restored at seq 12"
    And the JSON line is {"resync": {...}} with the reason "stream_reset" and the snapshot head seq 12

  Scenario Outline: Progress comes from plan.progress, else from the steps: <case>
    Given a plan snapshot with status "<status>", steps "<steps>" and progress "<progress>"
    Then its progress is <percent> percent, <done> of <total> steps

    Examples:
      | case                  | status    | steps                     | progress | percent | done | total |
      | reported              | running   | succeeded,running,pending | 40,2,5   | 40.0    | 2    | 5     |
      | counted from steps    | running   | succeeded,skipped,running | -        | 66.7    | 2    | 3     |
      | succeeded, no steps   | succeeded | -                         | -        | 100.0   | 0    | 0     |
      | nothing yet           | -         | -                         | -        | 0.0     | 0    | 0     |

  Scenario: The live view of two plans shows both, and the newest log lines of both
    Given trackers for the plans "a, b"
    And plan "a" folded 2 running steps, plan "b" 1, then both 6 log lines, taking turns
    And the connection dropped and came back
    When the live view is rendered 120 columns wide
    Then the view shows the header "plan a  running  seq 9" and "plan b  running  seq 8"
    And the view shows the 8 newest log lines of both plans, each prefixed with its plan
    And the view shows the connection "open" over the counters "events 17 · duplicates dropped 0 · reconnects 1 · gaps repaired 0 · resyncs 0 · rtt 2.1 ms"
    And the view ends with the notices "connection: reconnecting… (1012 restart), next try in 0.2 s" and "connection: reconnected; resuming each plan after its last event"

  Scenario: A watcher shares one log between its plans and reports the client's counters
    When a watcher of the plans "a, b" is made for a client that is not started
    Then the watcher's trackers share one log of 8 lines
    And the watcher reports the counters of a closed client with 0 events
    And the watcher's repr is "PlanWatcher(plans=['a', 'b'])"

  Scenario Outline: --url <url> is the stream <stream> and the HTTP base <http>
    Then the URL "<url>" gives the stream URL "<stream>" and the HTTP base "<http>"
    And a ServerApi for "<url>" calls "<http>"

    Examples:
      | url                                   | stream                              | http                      |
      | ws://127.0.0.1:8765/v1/stream         | ws://127.0.0.1:8765/v1/stream       | http://127.0.0.1:8765     |
      | http://127.0.0.1:8765                 | ws://127.0.0.1:8765/v1/stream       | http://127.0.0.1:8765     |
      | https://example.org/ps/               | wss://example.org/ps/v1/stream      | https://example.org/ps    |
      | http://127.0.0.1:8001/planstream      | ws://127.0.0.1:8001/planstream/v1/stream | http://127.0.0.1:8001/planstream |
      | wss://example.org/ps/v1/stream        | wss://example.org/ps/v1/stream      | https://example.org/ps    |

  Scenario: A --url that is no server address fails with one line
    Then the URL "ftp://example.org" is refused with "--url must look like ws://HOST:PORT/v1/stream or http://HOST:PORT[/PREFIX], not 'ftp://example.org'"

  Scenario Outline: A command body that <does> exits <status> with "<stderr>"
    When a command body that <does> runs
    Then the command body exited with status <status> and wrote "<stderr>" on stderr

    Examples:
      | does                                   | status | stderr                                                                                   |
      | returns 1                              | 1      |                                                                                          |
      | raises CommandError 'no plan' exit 2   | 2      | planstream: error: no plan                                                              |
      | raises a task group of a CommandError  | 2      | planstream: error: no plan                                                              |
      | raises SettingsError                   | 2      | planstream: error: invalid planstream settings: PLANSTREAM_URL: bad                      |
      | raises RuntimeError on two lines       | 2      | planstream: error: internal error: RuntimeError: boom second line (--debug shows the traceback) |
      | is interrupted                         | 130    | planstream: interrupted                                                                  |

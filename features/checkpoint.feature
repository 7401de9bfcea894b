Feature: A durable cursor resumes a restarted consumer where its user finished
  With `ClientSettings.checkpoint` (`PLANSTREAM_CHECKPOINT`) naming a SQLite
  file, `client.subscribe(plan_id)` resumes after a process restart from the
  last item the user finished: the position is committed when the user's loop
  asks for the next item, or with `await subscription.commit()`. One row per
  plan, WAL journal. Exactly once within a process; at least once across a
  crash: at most the item in flight (handed out, not finished) comes again.
  The consumers here are real processes on real sockets, killed with SIGKILL.

  Scenario: A consumer SIGKILLed 5 times mid-stream misses nothing; at most the item in flight comes again
    Given a reference server
    And a checkpoint file in a fresh directory
    When plans "ck-a" and "ck-b" get 300 log events each at a steady pace while their consumer is killed 5 times at seeded random points and restarted
    Then the consumer's record passes the stream checker, nothing lost, nothing duplicated
    And each restart redelivered at most 1 event per plan
    And the checkpoint holds one row per plan, each at its plan's last event
    And the checkpoint file's journal mode is "wal"

  Scenario Outline: A consumer killed <when> sees that item again <again>
    Given a reference server
    And plan "ck-<mode>" was published on the reference server: 1 steps, then "succeeded"
    And a checkpoint file in a fresh directory
    When a consumer in mode "<mode>" takes the first item of plan "ck-<mode>" and is killed
    And the consumer is restarted and reads plan "ck-<mode>" to the end
    Then the consumer's record passes the stream checker with <count> redelivered

    Examples:
      | when                                    | mode   | again          | count |
      | holding an item                         | hold   | once           | 1     |
      | right after subscription.commit()       | commit | never          | 0     |

  Scenario: Taking items commits the finished ones; a position that did not move is not written again
    Given a reference server
    And plan "ck-moves" was published on the reference server: 1 steps, then "succeeded"
    And a checkpoint file in a fresh directory
    When a client with the checkpoint subscribes to plan "ck-moves" and commits before taking anything
    Then the checkpoint holds no row
    When a client with the checkpoint takes 3 items of plan "ck-moves"
    Then the checkpoint row of plan "ck-moves" is at seq 2
    When that client commits the item it holds, twice
    Then the checkpoint row of plan "ck-moves" is at seq 3, written once
    When a client with the checkpoint takes 1 item of plan "ck-moves"
    Then that client was handed seq 4

  Scenario: An explicit last_event_id wins over the checkpoint
    Given a reference server
    And plan "ck-explicit" was published on the reference server: 1 steps, then "succeeded"
    And a checkpoint file in a fresh directory
    When a client with the checkpoint takes 4 items of plan "ck-explicit"
    And a client with the checkpoint takes 1 item of plan "ck-explicit" after its event seq 1
    Then that client was handed seq 2

  Scenario: watch() folds the whole plan and neither reads nor moves the checkpoint
    Given a reference server
    And plan "ck-watch" was published on the reference server: 1 steps, then "succeeded"
    And a checkpoint file in a fresh directory
    When a client with the checkpoint takes 2 items of plan "ck-watch"
    And that client commits the item it holds, twice
    And that client watches plan "ck-watch" to its end
    Then the first state it watched holds seq 1 and the last one is "succeeded"
    And the checkpoint row of plan "ck-watch" is at seq 2

  Scenario: A Resync's snapshot head is the position stored
    Given a reference server
    And plan "ck-resync" was published on the reference server: 1 steps, then "succeeded"
    And a checkpoint file in a fresh directory
    When a client with the checkpoint takes 1 item of plan "ck-resync" after an unknown event id, then asks for the next
    Then that client was handed a Resync
    And the checkpoint row of plan "ck-resync" is at its last event

  Scenario: A Resync without a head stores "from the start"
    Given a reference server
    And a checkpoint file in a fresh directory
    When a client with the checkpoint takes 1 item of plan "ck-empty" after an unknown event id, then asks for the next
    Then the checkpoint row of plan "ck-empty" is "from the start"
    Given plan "ck-empty" was published on the reference server: 1 steps, then "succeeded"
    When a client with the checkpoint takes 1 item of plan "ck-empty"
    Then that client was handed seq 1

  Scenario: Two plans share one file; without a checkpoint commit() does nothing
    Given a reference server
    And plan "ck-one" was published on the reference server: 1 steps, then "succeeded"
    And plan "ck-two" was published on the reference server: 1 steps, then "failed"
    And a checkpoint file in a fresh directory
    When a client with the checkpoint takes 2 items of plan "ck-one"
    And a client with the checkpoint takes 4 items of plan "ck-two"
    Then the checkpoint holds 2 rows: "ck-one" at seq 1 and "ck-two" at seq 3
    When a client without a checkpoint takes 2 items of plan "ck-one" and commits
    Then the checkpoint holds 2 rows: "ck-one" at seq 1 and "ck-two" at seq 3

  Scenario: Two consumer processes share one checkpoint file, one plan each, at the same time
    Given a reference server
    And plan "ck-left" was published on the reference server: 3 steps, then "succeeded"
    And plan "ck-right" was published on the reference server: 3 steps, then "failed"
    And a checkpoint file in a fresh directory
    When two consumers with the checkpoint read plans "ck-left" and "ck-right" to the end at the same time
    Then the checkpoint holds 2 rows: "ck-left" at seq 14 and "ck-right" at seq 14
    When two consumers with the checkpoint read plans "ck-left" and "ck-right" to the end at the same time
    Then the second two consumers took nothing: their plans had ended where their positions were

  Scenario: PLANSTREAM_CHECKPOINT sets the checkpoint; empty means none
    Then with PLANSTREAM_CHECKPOINT="/var/lib/app/cursor.sqlite", ClientSettings().checkpoint is that path
    And with PLANSTREAM_CHECKPOINT="", ClientSettings().checkpoint is None

  Scenario Outline: A checkpoint that is <case> fails `async with` with a CheckpointError
    Given a reference server
    And a checkpoint file in a fresh directory, made <case>
    When a client with the checkpoint is entered
    Then entering failed with a CheckpointError saying "<text>"

    Examples:
      | case                               | text                                  |
      | a path in a missing directory      | cannot be opened                      |
      | a directory                        | is a directory                        |
      | a text file                        | is not a usable SQLite database       |
      | another program's SQLite database  | another program's SQLite database     |
      | a newer planstream layout          | has checkpoint layout 2               |
      | a checkpoint without its table     | has no valid planstream_checkpoint    |
      | the in-memory database             | cannot use the WAL journal            |

  Scenario Outline: A position that cannot be <what> raises CheckpointError from the iterator
    Given a reference server
    And plan "ck-broken" was published on the reference server: 1 steps, then "succeeded"
    And a checkpoint file in a fresh directory
    When a client with the checkpoint opens it, then <accident>, then takes 2 items of plan "ck-broken"
    Then it failed with a CheckpointError saying "<text>"

    Examples:
      | what    | accident                                  | text                            |
      | written | the file is removed                       | was removed while in use        |
      | written | the file is replaced                      | was replaced by another file    |
      | read    | its table is dropped                      | cannot be read                  |
      | read    | its row holds an invalid event id         | plan 'ck-broken'                |
      | read    | its row holds a text seq                  | holds no valid position         |

  Scenario: A write locked out past the busy timeout raises CheckpointError; the next ask commits
    Given a reference server
    And plan "ck-locked" was published on the reference server: 1 steps, then "succeeded"
    And a checkpoint file in a fresh directory
    When a client with the checkpoint opens it, then another writer holds the file locked, then takes 2 items of plan "ck-locked"
    Then it failed with a CheckpointError saying "database is locked"
    And the checkpoint holds no row
    When the other writer lets go and that client asks for the next item
    Then that client was handed seq 2
    And the checkpoint row of plan "ck-locked" is at seq 1

  Scenario: A loop that asks for the next item after the client closed gets ClientClosedError
    Given a reference server
    And plan "ck-closed" was published on the reference server: 1 steps, then "succeeded"
    And a checkpoint file in a fresh directory
    When a client with the checkpoint takes 1 item of plan "ck-closed", closes, and asks for the next
    Then it failed with a ClientClosedError saying "checkpoint is no longer written"
    And the checkpoint holds no row
    And the client's checkpoint says it is closed, naming its file, and closes again quietly

Feature: The soak's checker judges a delivered stream against the publisher's record
  features/support/stream_checker.py is what the chaos soak (reliability/soak.robot)
  and the durable-cursor tests trust to say "exactly once, in order". So it is
  proved here on small records whose right answer is known: the publisher's
  record lists each acknowledged event ({"p", "s", "i"}), a consumer's record
  what it was handed ({"k": "start"} per process start, {"k": "e", ...} per
  event, {"k": "r", ...} per Resync). Records are real JSON-lines files.

  Background:
    Given the publisher acknowledged seqs 1 to 5 of plan "a"
    And the publisher acknowledged seqs 1 to 3 of plan "b"

  Scenario: An exact stream of every plan passes
    When the checker reads the consumer's record:
      """
      {"k":"start"}
      {"k":"e","p":"a","s":1,"i":"a-1"}
      {"k":"e","p":"b","s":1,"i":"b-1"}
      {"k":"e","p":"a","s":2,"i":"a-2"}
      {"k":"e","p":"a","s":3,"i":"a-3"}
      {"k":"e","p":"b","s":2,"i":"b-2"}
      {"k":"e","p":"a","s":4,"i":"a-4"}
      {"k":"e","p":"b","s":3,"i":"b-3"}
      {"k":"e","p":"a","s":5,"i":"a-5"}
      """
    Then the stream is exact
    And the checker counts delivered 8, lost 0, duplicated 0, redelivered 0, resyncs 0
    And the checker counted 1 incarnation

  Scenario: A lost event fails the stream, counted once
    When the checker reads the consumer's record:
      """
      {"k":"start"}
      {"k":"e","p":"a","s":1,"i":"a-1"}
      {"k":"e","p":"a","s":2,"i":"a-2"}
      {"k":"e","p":"a","s":4,"i":"a-4"}
      {"k":"e","p":"a","s":5,"i":"a-5"}
      {"k":"e","p":"b","s":1,"i":"b-1"}
      {"k":"e","p":"b","s":2,"i":"b-2"}
      {"k":"e","p":"b","s":3,"i":"b-3"}
      """
    Then the stream fails
    And the checker counts delivered 7, lost 1, duplicated 0, order_violations 0
    And a problem of plan "a" reads "1 event(s) missing before 'a-4' (seq 4)"

  Scenario: Events never delivered after the last one are lost when the consumer read to the end
    When the checker reads the consumer's record:
      """
      {"k":"start"}
      {"k":"e","p":"a","s":1,"i":"a-1"}
      {"k":"e","p":"a","s":2,"i":"a-2"}
      {"k":"e","p":"b","s":1,"i":"b-1"}
      """
    Then the stream fails
    And the checker counts delivered 3, lost 5
    And a problem of plan "a" reads "3 event(s) after the last delivered never arrived"

  Scenario: A consumer stopped on purpose is judged on what it got
    When the checker reads the record of a consumer that did not read to the end:
      """
      {"k":"start"}
      {"k":"e","p":"a","s":1,"i":"a-1"}
      {"k":"e","p":"a","s":2,"i":"a-2"}
      {"k":"e","p":"b","s":1,"i":"b-1"}
      """
    Then the stream is exact
    And the checker counts delivered 3, lost 0

  Scenario: A duplicated event fails the stream
    When the checker reads the consumer's record of plan "b" only:
      """
      {"k":"start"}
      {"k":"e","p":"b","s":1,"i":"b-1"}
      {"k":"e","p":"b","s":2,"i":"b-2"}
      {"k":"e","p":"b","s":2,"i":"b-2"}
      {"k":"e","p":"b","s":3,"i":"b-3"}
      """
    Then the stream fails
    And the checker counts delivered 3, lost 0, duplicated 1, redelivered 0
    And a problem of plan "b" reads "event 'b-2' (seq 2) delivered again"

  Scenario: A reordered event fails the stream as an order violation, not as a loss
    When the checker reads the consumer's record of plan "b" only:
      """
      {"k":"start"}
      {"k":"e","p":"b","s":1,"i":"b-1"}
      {"k":"e","p":"b","s":3,"i":"b-3"}
      {"k":"e","p":"b","s":2,"i":"b-2"}
      """
    Then the stream fails
    And the checker counts delivered 3, lost 0, duplicated 0, order_violations 1
    And a problem of plan "b" reads "event 'b-2' (seq 2) arrived after a later event"

  Scenario: An event the publisher never acknowledged fails the stream
    When the checker reads the consumer's record of plan "b" only:
      """
      {"k":"start"}
      {"k":"e","p":"b","s":1,"i":"b-1"}
      {"k":"e","p":"b","s":2,"i":"b-2"}
      {"k":"e","p":"b","s":3,"i":"b-3"}
      {"k":"e","p":"b","s":4,"i":"b-4"}
      """
    Then the stream fails
    And the checker counts delivered 3, unknown 1, lost 0
    And a problem of plan "b" reads "event 'b-4' (seq 4) was never acknowledged to the publisher"

  Scenario: A Resync explains the events it skipped
    When the checker reads the consumer's record of plan "a" only:
      """
      {"k":"start"}
      {"k":"e","p":"a","s":1,"i":"a-1"}
      {"k":"r","p":"a","i":"a-3"}
      {"k":"e","p":"a","s":5,"i":"a-5"}
      """
    Then the stream is exact
    And the checker counts delivered 2, lost 0, resyncs 1, explained 2

  Scenario: Seqs that start over need a Resync between (a memory log restarted)
    Given the publisher acknowledged seqs 1 to 2 of plan "m"
    And the publisher acknowledged seqs 1 to 2 of plan "m" with ids "m2-<seq>" after a restart
    When the checker reads the consumer's record of plan "m" only:
      """
      {"k":"start"}
      {"k":"e","p":"m","s":1,"i":"m-1"}
      {"k":"e","p":"m","s":2,"i":"m-2"}
      {"k":"e","p":"m","s":1,"i":"m2-1"}
      {"k":"e","p":"m","s":2,"i":"m2-2"}
      """
    Then the stream fails
    And the checker counts delivered 4, lost 0, order_violations 1
    And a problem of plan "m" reads "seq 1 after seq 2 with no resync between"

  Scenario: A Resync with no head (the restarted log was empty) explains the old tail
    Given the publisher acknowledged seqs 1 to 3 of plan "m"
    And the publisher acknowledged seqs 1 to 2 of plan "m" with ids "m2-<seq>" after a restart
    When the checker reads the consumer's record of plan "m" only:
      """
      {"k":"start"}
      {"k":"e","p":"m","s":1,"i":"m-1"}
      {"k":"r","p":"m","i":null}
      {"k":"e","p":"m","s":1,"i":"m2-1"}
      {"k":"e","p":"m","s":2,"i":"m2-2"}
      """
    Then the stream is exact
    And the checker counts delivered 3, lost 0, resyncs 1, explained 2

  Scenario: A killed consumer may see its one event in flight again
    When the checker reads the consumer's record of plan "a" only:
      """
      {"k":"start"}
      {"k":"e","p":"a","s":1,"i":"a-1"}
      {"k":"e","p":"a","s":2,"i":"a-2"}
      {"k":"start"}
      {"k":"e","p":"a","s":2,"i":"a-2"}
      {"k":"e","p":"a","s":3,"i":"a-3"}
      {"k":"e","p":"a","s":4,"i":"a-4"}
      {"k":"e","p":"a","s":5,"i":"a-5"}
      """
    Then the stream is exact
    And the checker counts delivered 5, duplicated 0, redelivered 1
    And the checker counted 2 incarnations

  Scenario: A killed consumer that sees two old events again fails the stream
    When the checker reads the consumer's record of plan "a" only:
      """
      {"k":"start"}
      {"k":"e","p":"a","s":1,"i":"a-1"}
      {"k":"e","p":"a","s":2,"i":"a-2"}
      {"k":"start"}
      {"k":"e","p":"a","s":1,"i":"a-1"}
      {"k":"e","p":"a","s":2,"i":"a-2"}
      {"k":"e","p":"a","s":3,"i":"a-3"}
      {"k":"e","p":"a","s":4,"i":"a-4"}
      {"k":"e","p":"a","s":5,"i":"a-5"}
      """
    Then the stream fails
    And the checker counts delivered 5, duplicated 2, redelivered 0

  Scenario: A torn last line (the consumer was killed mid-write) is ignored
    When the checker reads the consumer's record of plan "b" only, its last line torn:
      """
      {"k":"start"}
      {"k":"e","p":"b","s":1,"i":"b-1"}
      {"k":"e","p":"b","s":2,"i":"b-2"}
      {"k":"e","p":"b","s":3,"i":"b-3"}
      {"k":"e","p":"b","s":3,"i":"b-
      """
    Then the stream is exact
    And the checker counts delivered 3, duplicated 0

  Scenario Outline: A record the checker cannot read is refused, not judged
    When the checker is given <record>
    Then the checker refuses it with "<message>"

    Examples:
      | record                                            | message                                               |
      | a consumer line of kind "x"                       | unknown record line kind 'x'                          |
      | a consumer line of plan "c", which it did not follow | the consumer's record names a plan it did not follow: 'c' |
      | a publisher's record holding "a-1" twice          | the publisher's record holds 'a-1' twice              |

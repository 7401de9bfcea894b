Feature: Sequencer guarantees hold for generated inputs (hypothesis properties)
  Each step runs a hypothesis test (200 examples, derandomized, no example
  database, so a CI run is reproducible) against the pure sequencer.

  The "any input" properties feed two tracked plans and one untracked plan a
  random mix of events (seqs mostly near the plan's position, some absolute up
  to near 2**53; natural or colliding ids; duplicates of delivered ids), shuffled
  runs fed one by one or as batches, ticks at increasing times, heartbeats,
  subscribed and resync frames with random heads, and reconnects. After every
  frame they check: per plan the buffer holds at most reorder_window events,
  all ahead of the position and within the window, and buffered events always
  have a deadline (nothing stalls silently); recent_ids and recent_order hold
  at most dedup_window ids; delivered seqs grow by exactly 1 between resyncs
  (a Resync marker resets the expectation to its head); no id is delivered
  again while it is within the last dedup_window deliveries (the resume id
  and a resync head count as delivered); nothing is delivered or repaired for
  an untracked plan; repairs resume from the last delivered id; and the stats
  agree with what was delivered.

  Scenario Outline: A shuffled seq range with duplicates, fed one event at a time, comes out exactly once in order
    Then the sequencer delivers any shuffled seq range with duplicates exactly once in order, fed one event at a time, with reorder window <reorder> and dedup window <dedup>

    Examples:
      | reorder | dedup |
      | 8       | 16    |
      | 64      | 4     |

  Scenario Outline: A shuffled seq range with duplicates, fed as batches, comes out exactly once in order
    Then the sequencer delivers any shuffled seq range with duplicates exactly once in order, fed as batches, with reorder window <reorder> and dedup window <dedup>

    Examples:
      | reorder | dedup |
      | 8       | 16    |
      | 64      | 4     |

  Scenario: Any input keeps memory bounded and deliveries ordered and unique for plans followed from the start
    Then the sequencer keeps its bounds, order and uniqueness for any input to fresh plans with reorder window 8 and dedup window 16

  Scenario: Any input keeps memory bounded and deliveries ordered and unique with a tiny dedup window
    Then the sequencer keeps its bounds, order and uniqueness for any input to fresh plans with reorder window 4 and dedup window 2

  Scenario: Any input keeps memory bounded and deliveries ordered and unique for plans resumed from an event id
    Then the sequencer keeps its bounds, order and uniqueness for any input to resumed plans with reorder window 8 and dedup window 16

  Scenario: Events dropped from a seq range are repaired by resubscribe and replay, each delivered exactly once
    Then the sequencer repairs any events dropped from a seq range of up to 12 by resubscribe and replay, delivering each exactly once

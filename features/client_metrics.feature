Feature: Client metrics through OpenTelemetry
  With an OpenTelemetry MeterProvider, PlanStreamClient reports what its stream
  does (docs/guide/observability.md): its counters as observable instruments,
  the publish -> deliver lag of every event, the time spent per connection
  state and the inbox depth. These scenarios pass an SDK MeterProvider with an
  InMemoryMetricReader and drive the client against the reference server on
  127.0.0.1, directly or through the fault-injecting proxy
  (features/support/fault_proxy.py). Without OpenTelemetry the client measures
  nothing, imports nothing of it and adds nothing to its hot path.

  Scenario: Reconnects, exact resumes, duplicates and the lag of every event through a faulty proxy
    Given a reference server whose memory log survives restarts, with settings
      | setting          | value |
      | batch_max_events | 1     |
    And a resilience fault proxy in front of the server with faults
      | fault           | value |
      | abort_after     | 40    |
      | duplicate_every | 7     |
      | swap_every      | 11    |
    And a meter provider with an in-memory metric reader
    And 199 resilience log events and a "succeeded" status are published to plan "job"
    And a metered client connected through the resilience fault proxy
    When the metered client reads plan "job" to its end
    And the client metrics are collected
    Then the client metric "planstream.client.reconnects" is at least 3 and equals the metered client's stat "reconnects"
    And the client metric "planstream.client.resumes" with outcome "exact" is at least the metered client's stat "reconnects"
    And the client metric "planstream.client.resumes" with outcome "resync" is 0
    And the client metric "planstream.client.duplicates_dropped" is at least 20 and equals the metered client's stat "duplicates_dropped"
    And the client metric "planstream.client.events_reordered" is at least 5 and equals the metered client's stat "reordered"
    And the client metric "planstream.client.events_delivered" is 200
    And the client metric "planstream.client.resyncs" is 0
    And the client metric "planstream.client.frames_rejected" is 0
    And the client metric "planstream.client.polls" is 0
    And the lag histogram counted the 200 events taken, each lag between 0 and the time since the meter provider was made
    And the connection times add up to the metered client's lifetime
    And the connection spent some time "open" and some time "reconnecting"

  Scenario: Dropped frames are repaired, and the repairs are counted
    Given a reference server whose memory log survives restarts, with settings
      | setting          | value |
      | batch_max_events | 1     |
    And a resilience fault proxy in front of the server with faults
      | fault       | value  |
      | drop_frames | 10, 25 |
    And a meter provider with an in-memory metric reader
    And 39 resilience log events and a "succeeded" status are published to plan "job"
    And a metered client connected through the resilience fault proxy with settings
      | setting               | value |
      | sequencer.gap_timeout | 0.2   |
    When the metered client reads plan "job" to its end
    And the client metrics are collected
    Then the client metric "planstream.client.gaps_repaired" is at least 1 and equals the metered client's stat "gaps_repaired"
    And the client metric "planstream.client.resumes" with outcome "exact" is at least 1
    And the client metric "planstream.client.reconnects" is 0
    And the lag histogram counted the 40 events taken, each lag between 0 and the time since the meter provider was made

  Scenario: A server restarted with an empty memory log is resumed with a resync, counted as such
    Given a reference server whose memory log survives restarts
    And a meter provider with an in-memory metric reader
    And 5 resilience log events are published to plan "job"
    And a metered client connected to the reference server
    When the metered client starts reading plan "job"
    And the metered client has taken 5 items of plan "job"
    And the reference server restarts on the same port with an empty memory log
    Then the metered client takes a Resync of plan "job"
    When the client metrics are collected
    Then the client metric "planstream.client.resumes" with outcome "resync" is 1
    And the client metric "planstream.client.resumes" with outcome "exact" is 0
    And the client metric "planstream.client.resyncs" is 1
    And the client metric "planstream.client.reconnects" is 1
    And the lag histogram counted the 5 events taken, each lag between 0 and the time since the meter provider was made

  Scenario: The inbox depth is observed while the user does not read, and falls as it reads
    Given a reference server whose memory log survives restarts
    And a meter provider with an in-memory metric reader
    And a metered client connected to the reference server
    When the metered client subscribes to plan "job" without reading it
    And 12 resilience log events are published to plan "job"
    And the metered client has 12 items waiting for plan "job"
    And the client metrics are collected
    Then the client metric "planstream.client.subscriptions" is 1
    And the client metric "planstream.client.inbox.items" is 12
    And the client metric "planstream.client.inbox.depth" is 12
    When the metered client takes 12 items of its waiting subscription
    And the client metrics are collected
    Then the client metric "planstream.client.inbox.items" is 0
    And the client metric "planstream.client.inbox.depth" is 0
    And the lag histogram counted the 12 events taken, each lag between 0 and the time since the meter provider was made

  Scenario: Two clients of one provider add up; a closed client's counts stay and nothing reads it any more
    Given a reference server whose memory log survives restarts
    And a meter provider with an in-memory metric reader
    And 20 resilience log events and a "succeeded" status are published to plan "job"
    And a metered client connected to the reference server
    And a second metered client on the same meter provider
    When the metered client reads plan "job" to its end
    And the second metered client reads plan "job" to its end
    And the client metrics are collected
    Then the client metric "planstream.client.events_delivered" is 42
    And the client metric "planstream.client.subscriptions" is 0
    When both metered clients are closed
    And the client metrics are collected
    Then the client metric "planstream.client.events_delivered" is 42
    And the lag histogram counted the 42 events taken, each lag between 0 and the time since the meter provider was made
    And the client metric "planstream.client.inbox.depth" has no data point
    And the client metric "planstream.client.subscriptions" has no data point
    And the connection times no longer grow once both clients are closed

  Scenario: A periodic reader collects from its own thread while the stream flows through drops
    Given a reference server whose memory log survives restarts, with settings
      | setting          | value |
      | batch_max_events | 1     |
    And a resilience fault proxy in front of the server with faults
      | fault       | value |
      | abort_after | 150   |
    And a meter provider whose periodic reader exports every 10 ms from its own thread
    And a metered client connected through the resilience fault proxy
    When the metered client starts reading plan "flow"
    And 1000 resilience log events and a "succeeded" status are published to plan "flow" in chunks of 100 while it streams
    And the metered client has taken 1001 items of plan "flow"
    And the periodic reader exports once more
    Then the periodic reader exported at least 5 times and no instrument callback failed
    And its last export counted 1001 events delivered, 1001 lags and the metered client's reconnects

  Scenario: A no-op provider adds no observer; a provider that takes no weak reference still gets the metrics
    Given a reference server whose memory log survives restarts
    And 3 resilience log events and a "succeeded" status are published to plan "job"
    When a client with OpenTelemetry's no-op meter provider reads plan "job" to its end
    Then that client had no delivery observer
    When a client with a meter provider that takes no weak reference reads plan "job" to its end
    Then that provider's reader saw 4 events delivered and 4 lags

  Scenario: The global meter provider is used once an application set it, and not before
    Given a reference server whose memory log survives restarts
    And 3 resilience log events and a "succeeded" status are published to plan "job"
    When a program reads plan "job" with one client entered before it sets the global meter provider and one after
    Then the program's client entered before had no delivery observer
    And the program's global meter provider saw 4 events delivered and 4 lags

  Scenario Outline: <Without> OpenTelemetry the client streams, measures nothing and imports none of it
    Given a reference server whose memory log survives restarts
    And 3 resilience log events and a "succeeded" status are published to plan "job"
    When a program that <program> reads plan "job" with a client
    Then the program took 4 items, had no delivery observer and loaded no opentelemetry module

    Examples:
      | Without                               | program                                                   |
      | Without                               | cannot import opentelemetry, though a provider is named,  |
      | With the API installed but never used | never imports opentelemetry nor names a provider          |

  Scenario: Importing the client imports nothing of OpenTelemetry
    When "import planstream.client.client; import planstream.client.telemetry" runs in a fresh interpreter
    Then it loaded none of "opentelemetry"

Feature: The server's Prometheus figures follow what the stream does
  /metrics (Prometheus text, parsed with prometheus_client's parser) gains the
  figures matching the client's: events sent as replay or live, resume
  outcomes, resyncs by reason, rate-limit hits on the WebSocket and over HTTP,
  and the Redis log's call durations (issue 15 item 4). /v1/status keeps its
  JSON, with the new counters next to the old ones.

  Scenario: Events sent are split into replay and live, and resumes are counted by outcome
    Given a reference server
    And 3 events were published to plan "split"
    When a raw subscriber follows plan "split" from the start and reads 3 events
    And 2 events are published to plan "split"
    And the raw subscriber reads 2 more events
    And the server's metrics are scraped
    Then the scraped figures are:
      | figure                                                   | value |
      | planstream_events_sent_total                             | 5     |
      | planstream_events_replayed_total                         | 3     |
      | planstream_events_live_total                             | 2     |
      | planstream_resumes_total{outcome="exact"}                | 0     |
      | planstream_resumes_total{outcome="resync"}               | 0     |
      | planstream_resyncs_sent_total{reason="unknown_event_id"} | 0     |
    And the scrape has no "planstream_redis_seconds" family
    When a raw subscriber follows plan "split" after its event 2 and reads 3 events
    And a raw subscriber follows plan "split" after the event id "nobody-knows-this-id" and is resynced
    And the server's metrics are scraped
    Then the scraped figures are:
      | figure                                                   | value |
      | planstream_events_sent_total                             | 8     |
      | planstream_events_replayed_total                         | 6     |
      | planstream_events_live_total                             | 2     |
      | planstream_resumes_total{outcome="exact"}                | 1     |
      | planstream_resumes_total{outcome="resync"}               | 1     |
      | planstream_resyncs_sent_total{reason="unknown_event_id"} | 1     |
      | planstream_resyncs_sent_total{reason="history_expired"}  | 0     |
    And /v1/status says the same as the scrape for "events_replayed", "events_live", "resumes_exact" and "resyncs_unknown_event_id"

  Scenario: Expired history is a resync by reason, on the WebSocket and over HTTP polling
    Given a reference server with settings
      | setting   | value |
      | retention | 2     |
    And 5 events were published to plan "short"
    When a raw subscriber follows plan "short" from the start and is resynced
    And plan "short" is polled over HTTP after its event 1
    And the server's metrics are scraped
    Then the scraped figures are:
      | figure                                                  | value |
      | planstream_resyncs_sent_total{reason="history_expired"} | 2     |
      | planstream_resumes_total{outcome="resync"}              | 0     |
      | planstream_events_replayed_total                        | 0     |

  Scenario: A stream reset is counted as a resync stream_reset, and its new events are live
    Given a reference server
    And 2 events were published to plan "reborn"
    When a raw subscriber follows plan "reborn" from the start and reads 2 events
    And plan "reborn" is forgotten by the server and published to again 1 time
    And the raw subscriber receives a resync "stream_reset" and 1 more event
    And the server's metrics are scraped
    Then the scraped figures are:
      | figure                                               | value |
      | planstream_resyncs_sent_total{reason="stream_reset"} | 1     |
      | planstream_events_replayed_total                     | 2     |
      | planstream_events_live_total                         | 1     |

  Scenario: Rate-limit hits are counted on the WebSocket and over HTTP (429)
    Given a reference server with settings
      | setting       | value |
      | frame_rate    | 0.01  |
      | frame_burst   | 2     |
      | publish_rate  | 0.01  |
      | publish_burst | 1     |
    When a raw subscriber sends 5 pings at once
    And 3 events are POSTed to plan "limited" at once
    And the server's metrics are scraped
    Then the scraped figure "planstream_rate_limited_frames_total" is at least 1
    And the scraped figures are:
      | figure                               | value |
      | planstream_http_rate_limited_total   | 2     |
      | planstream_events_published_total    | 1     |

  @redis
  Scenario: With the Redis log, /metrics has a histogram of the Redis calls by operation
    Given a Redis server
    And a reference server on that Redis
    And 4 events were published to plan "timed"
    When a raw subscriber follows plan "timed" from the start and reads 4 events
    And 2 events are published to plan "timed"
    And the raw subscriber reads 2 more events
    And the server's metrics are scraped
    Then the Redis latency histogram counts at least 6 "append" calls
    And the Redis latency histogram counts at least 1 "read" calls
    And the Redis latency histogram counts at least 1 "locate" calls
    And every Redis latency histogram is cumulative, ends at +Inf with its count and has a positive sum
    And the Redis log's latency record shows the count of its "append" calls
    And the scraped figures are:
      | figure                           | value |
      | planstream_events_replayed_total | 4     |
      | planstream_events_live_total     | 2     |

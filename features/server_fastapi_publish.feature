Feature: Publishing from a FastAPI app that mounts the server
  examples/fastapi_mount.py mounts the reference server under /planstream in a
  FastAPI app whose own routes publish through the mounted server's state. It
  runs here as a user runs it, in its own process on a real port, and the
  SDK's client watches what its routes publish arrive.

  Scenario: The host's routes publish typed events that an SDK subscriber of the mounted stream receives
    Given the example "examples/fastapi_mount.py" runs on a free port with "--token reader"
    And an SDK client with the token "reader" subscribes to plan "build-7" at the example's "/planstream/v1/stream"
    When the host route "/api/builds/build-7/log" is posted {"message": "compiling"}
    And the host route "/api/builds/build-7/log" is posted {"message": "linking", "level": "warning"}
    And the host route "/api/builds/build-7/status" is posted {"status": "succeeded"}
    Then the host routes answered 200 with the seqs 1, 2 and 3
    And the SDK subscriber received the logs "compiling" (info) and "linking" (warning), then the plan "succeeded", and its stream ended
    When the host route "/api/builds/build-7/log" is posted {"message": "too late"}
    Then the host route answered 409 saying "plan 'build-7' has ended with status succeeded"
    When the host route "/api/builds/no%20such%20plan/log" is posted {"message": "x"}
    Then the host route answered 400 saying "plan_id may only hold ASCII letters, digits"

  Scenario: Without FastAPI the example says which extra to install, in one line
    When the example "examples/fastapi_mount.py" runs where FastAPI is not installed
    Then the example exited with status 1 and printed only "examples/fastapi_mount.py needs FastAPI: pip install 'planstream[fastapi]'" on stderr

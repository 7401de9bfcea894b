Feature: The planstream package is tidy: a deliberate API, pure core, typed, one error tree
  A newcomer should find what a user writes at the top level (and the machinery
  in named submodules), trust that the pure pipeline modules never load the
  network stack or touch the clock, and catch every planstream failure with one
  except clause. A public name is a decision: each face's exports are listed here.

  Scenario: Every planstream module declares __all__ and every listed name exists
    When every module of the planstream package is imported
    Then every planstream module defines __all__ as a list of unique strings
    And every name in each planstream module's __all__ exists in that module

  Scenario: The top level exports exactly what a user writes
    When every module of the planstream package is imported
    Then planstream exports exactly these names:
      | group            | names                                                                                                                                                                                                            |
      | client           | PlanStreamClient, PlanPublisher, Subscription, StateChange, ClientStats, ConnectionState                                                                                                                         |
      | settings         | ClientSettings, ReconnectSettings, HeartbeatSettings, PollingSettings, SequencerSettings, SslSettings                                                                                                            |
      | events and state | Event, PlanStatusEvent, StepStatusEvent, PlanProgressEvent, LogEvent, UnknownEvent, PlanStatus, StepStatus, LogLevel, LogStream, PlanStatusData, StepStatusData, PlanProgressData, LogData, PlanSnapshot, Resync, ResyncReason, PlanState, PublishedEvent, PlanSummary |
      | errors           | every exception class of planstream.errors                                                                                                                                                                       |
      | version          | __version__                                                                                                                                                                                                      |
    And every name planstream exports is the same object as in the module that defines it
    And dir(planstream) lists every name it exports
    And reading a name planstream does not export, such as Sequencer, raises AttributeError

  Scenario Outline: <face> exports exactly its decided names
    When every module of the planstream package is imported
    Then <face> exports exactly these names: <names>
    And every name <face> exports is the same object as in the module that defines it
    And dir(<face>) lists every name it exports

    Examples:
      | face              | names                                                                                                                                                                                                  |
      | planstream.client | PlanStreamClient, PlanPublisher, Subscription, StateChange, ClientStats, TokenProvider                                                                                                                 |
      | planstream.server | PlanStreamServer, ServerSettings, create_app, serve, ServerState, TokenVerifier, StaticTokenVerifier, Principal, PlanScope, EventLog, MemoryEventLog, RedisEventLog, StoredEvent, PublishError, PlanClosedError, IdempotencyKeyReusedError, ServerStartError |
      | planstream.cli    | main                                                                                                                                                                                                   |

  Scenario: The API reference lists the public names where they live
    When every module of the planstream package is imported
    Then "docs/reference/api.md" lists every name planstream exports, in its groups, and nothing more
    And "docs/reference/api.md" lists exactly the names of planstream.client, planstream.server and planstream.cli
    And every module "docs/reference/api.md" names for the advanced pieces exports the names shown with it

  Scenario: import planstream loads neither pydantic, asyncio, the network stack nor the CLI
    When "import planstream" runs in a fresh interpreter
    Then it loaded none of "pydantic, pydantic_settings, asyncio, websockets, httpx, click, rich, starlette, uvicorn"
    And it loaded no planstream module but "planstream, planstream.imports"

  Scenario Outline: Importing <face> loads no network stack until one of its names is read
    When "import <face>" runs in a fresh interpreter
    Then it loaded none of "asyncio, websockets, httpx, starlette, uvicorn, pydantic_settings"
    When "import <face>; <face>.<name>" runs in a fresh interpreter
    Then it loaded "<loaded>"

    Examples:
      | face                 | name                 | loaded     |
      | planstream.client    | PlanStreamClient     | websockets |
      | planstream.server    | PlanStreamServer     | starlette  |
      | planstream.transport | TransportFailedError | websockets |

  Scenario: planstream --version and --help load no command and none of the SDK's dependencies
    When "planstream --version" runs in a fresh interpreter
    Then it printed "planstream, version" and the package version
    And it loaded none of "pydantic, pydantic_settings, asyncio, websockets, httpx, rich, starlette, uvicorn"
    When "planstream --help" runs in a fresh interpreter
    Then it listed every planstream command with its short help
    And it loaded none of "pydantic, pydantic_settings, asyncio, websockets, httpx, rich, starlette, uvicorn"
    And it loaded no planstream module but "planstream, planstream.imports, planstream.cli, planstream.cli.main"

  Scenario: A command's module is loaded only when that command runs
    When "planstream plans --help" runs in a fresh interpreter
    Then it loaded "planstream.cli.commands.plans"
    And it loaded none of "planstream.cli.commands.demo, planstream.cli.commands.serve, planstream.cli.commands.watch, planstream.cli.commands.publish, planstream.server, starlette, uvicorn"
    And every planstream command loads from its own module with the short help planstream --help shows

  Scenario: The pure modules load no asyncio nor network stack at runtime, and import no clock nor threads
    Given the pure planstream modules, packages with all their modules:
      | module                        |
      | planstream.schema             |
      | planstream.codec              |
      | planstream.sequencer          |
      | planstream.plan_cursor        |
      | planstream.delivery           |
      | planstream.plan_state         |
      | planstream.backoff            |
      | planstream.negotiation        |
      | planstream.errors             |
      | planstream.close_codes        |
      | planstream.connection_state   |
      | planstream.log_limiter        |
      | planstream.connection_actions |
      | planstream.repairs            |
      | planstream.node_ring          |
      | planstream.endpoints          |
      | planstream.connection_transitions |
      | planstream.settings_env       |
      | planstream.redaction          |
      | planstream.imports            |
      | planstream.router             |
      | planstream.channel            |
      | planstream.closing            |
    And the modules forbidden in pure code are "asyncio, websockets, socket, time, threading, httpx, opentelemetry"
    When each pure planstream module is imported alone in a fresh interpreter
    Then no pure planstream module loaded "asyncio, websockets, httpx, starlette, uvicorn, opentelemetry"
    When every import statement of the pure planstream modules is read with ast
    Then the import check covered at least 19 pure modules, planstream.connection_state among them
    And no pure planstream module imports a forbidden module
    And every planstream module a pure module imports is pure itself

  Scenario: The import check sees nested, conditional and dynamic imports
    Given the modules forbidden in pure code are "asyncio, websockets, socket, time, threading, httpx"
    When this Python source is read for imports with ast:
      """
      from __future__ import annotations
      import json, os.path as p
      from typing import TYPE_CHECKING
      if TYPE_CHECKING:
          import websockets.asyncio.client
      try:
          import httpx
      except ImportError:
          httpx = None
      def later():
          from time import monotonic
          import threading as t
          return __import__("socket")
      class Lazy:
          def load(self):
              import importlib
              return importlib.import_module("asyncio.tasks")
      from . import sibling
      """
    Then the forbidden imports found are "websockets, httpx, time, threading, socket, asyncio"

  Scenario: The package is marked as typed
    Then the planstream package ships a py.typed marker

  Scenario: Every planstream exception derives from PlanStreamError
    When the exception classes of planstream.errors are collected
    Then there are at least 21 planstream exception classes
    And every planstream exception class derives from PlanStreamError
    And no planstream exception class is both a FatalError and a RetryableError
    And every public exception class of any planstream module derives from PlanStreamError
    And the planstream.errors docstring draws every exception class in its tree

  Scenario Outline: <error> sits at its place in the error tree
    When the exception classes of planstream.errors are collected
    Then <error> is a subclass of exactly these planstream errors: <ancestors>

    Examples:
      | error                     | ancestors                                                             |
      | PlanStreamError           | PlanStreamError                                                       |
      | SettingsError             | PlanStreamError, SettingsError                                        |
      | PlanStateError            | PlanStreamError, PlanStateError                                       |
      | FatalError                | PlanStreamError, FatalError                                           |
      | RetryableError            | PlanStreamError, RetryableError                                       |
      | ProtocolError             | PlanStreamError, ProtocolError                                        |
      | InvalidFrameError         | PlanStreamError, ProtocolError, InvalidFrameError                     |
      | FrameTooLargeError        | PlanStreamError, ProtocolError, FrameTooLargeError                    |
      | IncompatibleProtocolError | PlanStreamError, FatalError, ProtocolError, IncompatibleProtocolError |
      | InvalidStateError         | PlanStreamError, InvalidStateError                                    |
      | AuthenticationError       | PlanStreamError, FatalError, AuthenticationError                      |
      | ForbiddenError            | PlanStreamError, FatalError, ForbiddenError                           |
      | PolicyViolationError      | PlanStreamError, FatalError, PolicyViolationError                     |
      | MessageTooBigError        | PlanStreamError, FatalError, MessageTooBigError                       |
      | RetriesExhaustedError     | PlanStreamError, FatalError, RetriesExhaustedError                    |
      | ConnectionLostError       | PlanStreamError, RetryableError, ConnectionLostError                  |
      | ServerUnavailableError    | PlanStreamError, RetryableError, ServerUnavailableError               |
      | RateLimitedError          | PlanStreamError, RetryableError, RateLimitedError                     |
      | SlowConsumerError         | PlanStreamError, RetryableError, SlowConsumerError                    |
      | HeartbeatTimeoutError     | PlanStreamError, RetryableError, HeartbeatTimeoutError                |
      | UpgradeRefusedError       | PlanStreamError, RetryableError, UpgradeRefusedError                  |
      | PlanNotFoundError         | PlanStreamError, PlanNotFoundError                                    |
      | RequestRefusedError       | PlanStreamError, FatalError, RequestRefusedError                      |
      | PlanEndedError            | PlanStreamError, FatalError, RequestRefusedError, PlanEndedError      |
      | RequestRetriesExhaustedError | PlanStreamError, RetryableError, RequestRetriesExhaustedError      |
      | InvalidResponseError      | PlanStreamError, ProtocolError, InvalidResponseError                  |

  Scenario: Excerpts of offending frames are bounded for text and bytes
    Then frame_excerpt keeps short text as it is and cuts long text to 200 characters
    And frame_excerpt decodes bytes leniently and cuts them to 200 characters

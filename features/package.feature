Feature: The planstream package is tidy: explicit exports, pure core, typed, one error tree
  A newcomer should find every public name at the top level, trust that the
  pure pipeline modules never touch the network or the clock, and catch every
  planstream failure with one except clause.

  Scenario: Every planstream module declares __all__ and every listed name exists
    When every module of the planstream package is imported
    Then every planstream module defines __all__ as a list of unique strings
    And every name in each planstream module's __all__ exists in that module

  Scenario: The top level exports every public name of the submodules
    When every module of the planstream package is imported
    Then every name in a planstream submodule's __all__ is exported by planstream or deliberately kept in its submodule
    And every name deliberately kept in a submodule is really public there and not exported at the top level
    And every name in planstream.__all__ is the same object as in the submodule defining it

  Scenario: The pure modules import neither asyncio, sockets, the clock nor threads
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
      | planstream.router             |
      | planstream.channel            |
    And the modules forbidden in pure code are "asyncio, websockets, socket, time, threading, httpx"
    When every import statement of the pure planstream modules is read with ast
    Then the import check covered at least 14 pure modules, planstream.connection_state among them
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

  Scenario: Excerpts of offending frames are bounded for text and bytes
    Then frame_excerpt keeps short text as it is and cuts long text to 200 characters
    And frame_excerpt decodes bytes leniently and cuts them to 200 characters

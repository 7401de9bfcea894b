Feature: Every command's --help reads the same way
  Each option's help ends in click's own format, `[env var: PLANSTREAM_...;
  default: ...]`: its environment variable where it has one, its default unless
  it is a flag or has none (and those are listed here, so a missing default is
  a decision). `planstream serve` shows the variables and defaults of
  `ServerSettings`, which reads them: a flag wins over its variable.

  Scenario: Every option of every command shows its variable and its default in click's format
    When "planstream COMMAND --help" runs for every command
    Then every option with an environment variable shows "env var: NAME" in its help
    And every option with a default that is not a flag shows "default: VALUE" in its help
    And no help has a hand-written "[PLANSTREAM_...]" or "[env PLANSTREAM_...]" note
    And the options that are neither flags nor have a default are exactly these
      | command | option            |
      | plans   | --token           |
      | plans   | --ca-file         |
      | publish | --data            |
      | publish | --idempotency-key |
      | publish | --token           |
      | publish | --ca-file         |
      | serve   | --token           |
      | serve   | --publish-token   |
      | serve   | --jwt-secret-file |
      | serve   | --jwt-public-key  |
      | serve   | --jwks-file       |
      | serve   | --jwt-audience    |
      | serve   | --jwt-issuer      |
      | serve   | --ssl-certfile    |
      | serve   | --ssl-keyfile     |
      | serve   | --api-keys        |
      | serve   | --redis           |
      | watch   | --token           |
      | watch   | --ca-file         |
      | watch   | --from            |

  Scenario: planstream serve shows the variable and the default of each ServerSettings field it sets
    When "planstream COMMAND --help" runs for every command
    Then the help of "planstream serve" ends each option with these notes, which ServerSettings agrees with
      | option          | setting        | note                                                       |
      | --host          | host           | [env var: PLANSTREAM_SERVER_HOST; default: 127.0.0.1]      |
      | --port          | port           | [env var: PLANSTREAM_SERVER_PORT; default: 8765; 0<=x<=65535] |
      | --token         | tokens         | [env var: PLANSTREAM_SERVER_TOKENS]                        |
      | --publish-token | publish_tokens | [env var: PLANSTREAM_SERVER_PUBLISH_TOKENS]                |
      | --jwt-secret-file | jwt_secret_file | [env var: PLANSTREAM_SERVER_JWT_SECRET_FILE]           |
      | --jwt-public-key | jwt_public_key_file | [env var: PLANSTREAM_SERVER_JWT_PUBLIC_KEY_FILE]    |
      | --jwks-file     | jwks_file      | [env var: PLANSTREAM_SERVER_JWKS_FILE]                     |
      | --jwt-audience  | jwt_audience   | [env var: PLANSTREAM_SERVER_JWT_AUDIENCE]                  |
      | --jwt-issuer    | jwt_issuer     | [env var: PLANSTREAM_SERVER_JWT_ISSUER]                    |
      | --retention     | retention      | [env var: PLANSTREAM_SERVER_RETENTION; default: 10000; x>=1] |
      | --heartbeat     | heartbeat_s    | [env var: PLANSTREAM_SERVER_HEARTBEAT_S; default: 15.0; x>0] |
      | --ssl-certfile  | ssl_certfile   | [env var: PLANSTREAM_SERVER_SSL_CERTFILE]                  |
      | --ssl-keyfile   | ssl_keyfile    | [env var: PLANSTREAM_SERVER_SSL_KEYFILE]                   |
      | --api-keys      | api_keys_file  | [env var: PLANSTREAM_SERVER_API_KEYS_FILE]                 |
      | --redis         | redis_url      | [env var: PLANSTREAM_SERVER_REDIS_URL]                     |
      | --redis-cluster | redis_cluster  | [env var: PLANSTREAM_SERVER_REDIS_CLUSTER]                 |
      | --dashboard     | dashboard      | [env var: PLANSTREAM_SERVER_DASHBOARD]                     |

  Scenario: A bad serve flag is named as the flag, not as its variable
    When the planstream command runs "serve --port 70000"
    Then the planstream command exits with status 2
    And the planstream command's stderr ends with "Error: Invalid value for '--port': 70000 is not in the range 0<=x<=65535."

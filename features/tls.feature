Feature: TLS end to end: wss:// and https:// with a CA of the test's own
  The reference server serves wss:// and https:// with a certificate
  (ServerSettings.ssl_certfile/ssl_keyfile, planstream serve --ssl-certfile);
  the SDK trusts a CA file (PLANSTREAM_SSL__CA_FILE, --ca-file) or a ready
  ssl.SSLContext (PlanStreamClient(ssl=...)), for the WebSocket and the polling
  fallback alike. Verification is on by default; a certificate that does not
  verify is a fatal TLSError naming the cause, never an endless retry. The CA
  and the certificates are made in the test with trustme.

  Background:
    Given a test CA and a certificate it issued for "127.0.0.1" only
    And a reference server serving that certificate, with plan "p1" finished

  Scenario: The SDK streams over wss:// and over https:// polling, trusting the CA file
    When the SDK streams "p1" over "websocket" with PLANSTREAM_SSL__CA_FILE set to the CA
    Then it received the 2 events of "p1"
    When the SDK streams "p1" over "polling" with PLANSTREAM_SSL__CA_FILE set to the CA
    Then it received the 2 events of "p1"
    When the SDK streams "p1" over "websocket" with PlanStreamClient(ssl=...) trusting the CA
    Then it received the 2 events of "p1"

  Scenario Outline: A certificate that does not verify (<cause>) is a fatal TLSError over <transport>
    When the SDK streams "p1" over "<transport>" to host "<host>" trusting <trust>, retrying every 0.05 s
    Then the stream failed with a TLSError saying "<says>" without a retry

    Examples:
      | cause          | transport | host        | trust                | says                      |
      | unknown CA     | websocket | 127.0.0.1   | another CA           | certificate verify failed |
      | unknown CA     | polling   | 127.0.0.1   | another CA           | certificate verify failed |
      | unknown CA     | auto      | 127.0.0.1   | the system's CAs     | certificate verify failed |
      | wrong host     | websocket | localhost   | the CA               | mismatch                  |
      | wrong host     | polling   | localhost   | the CA               | mismatch                  |

  Scenario: TLS spoken to a plain server is a fatal TLSError too
    Given a reference server
    When the SDK streams "p1" over "websocket" with wss:// to the reference server
    Then the stream failed with a TLSError saying "WRONG_VERSION_NUMBER" without a retry

  Scenario: verify=false trusts any certificate (documented as unsafe)
    When the SDK streams "p1" over "websocket" to host "localhost" with PLANSTREAM_SSL__VERIFY=false
    Then it received the 2 events of "p1"

  Scenario: Bad TLS settings fail at construction, naming their variable
    Then client settings with PLANSTREAM_SSL__CA_FILE pointing to a text file fail naming "PLANSTREAM_SSL__CA_FILE"
    And client settings with PLANSTREAM_SSL__CA_FILE pointing nowhere fail naming "PLANSTREAM_SSL__CA_FILE"
    And client settings with a key file but no certificate file fail naming "ssl.key_file"
    And client settings with a client certificate that is not PEM fail naming "ssl"
    And server settings with an ssl key file but no certificate file fail naming "PLANSTREAM_SERVER_SSL_KEYFILE"

  Scenario: A client certificate is presented (mutual TLS settings)
    When the SDK streams "p1" over "websocket" with a client certificate issued by the CA
    Then it received the 2 events of "p1"

  Scenario: planstream serve --ssl-certfile, then watch, plans and publish with --ca-file
    Given "planstream serve" runs with --ssl-certfile and --ssl-keyfile of that certificate
    Then it printed that it listens on "wss://127.0.0.1"
    When "planstream publish p9 plan.status --data '{"status":"succeeded","reason":null}'" runs against it with --ca-file
    Then the planstream command exits with status 0
    When "planstream watch p9" runs against it with --ca-file
    Then the TLS command exits with status 0 and printed "plan succeeded"
    When "planstream plans" runs against it with --ca-file
    Then the TLS command exits with status 0 and printed "p9"
    When "planstream plans" runs against it without --ca-file
    Then the TLS command exits with status 2 and printed "TLS failed: certificate verify failed"
    When "planstream watch p9" runs against it without --ca-file
    Then the TLS command exits with status 2 and printed "TLS failed: certificate verify failed"

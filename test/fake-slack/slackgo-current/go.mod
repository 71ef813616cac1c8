module bridgeharness/slackgocurrent

go 1.26

// Upstream slack-go at the version the current mautrix-slack releases' fork is rebased on (v0.24+);
// the fork itself is not served by the Go module proxy.
require github.com/slack-go/slack v0.35.0

require github.com/gorilla/websocket v1.5.3 // indirect

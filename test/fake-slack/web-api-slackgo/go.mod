module bridgeharness/webapislackgo

go 1.23.0

// The versions mautrix-slack v0.2.0 builds with.
require (
	github.com/gorilla/websocket v1.5.0
	github.com/slack-go/slack v0.16.0
	golang.org/x/net v0.37.0
)

replace github.com/slack-go/slack => github.com/beeper/slackgo v0.0.0-20250309192538-8fa8f3a4b11c

// A Socket Mode client built from the same Slack library and version as mautrix-slack v0.2.0. It
// reaches the fake only the way the bridge does: https://slack.com/api/ through HTTPS_PROXY, trusting
// the run CA through SSL_CERT_FILE. Prints one JSON line per event on stdout.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

func emit(kind string, fields map[string]any) {
	if fields == nil {
		fields = map[string]any{}
	}
	fields["kind"] = kind
	fields["at"] = time.Now().UnixMilli()
	b, _ := json.Marshal(fields)
	fmt.Println(string(b))
}

func main() {
	seconds, _ := strconv.Atoi(os.Getenv("RUN_SECONDS"))
	if seconds == 0 {
		seconds = 10
	}
	api := slack.New(os.Getenv("BOT_TOKEN"), slack.OptionAppLevelToken(os.Getenv("APP_TOKEN")))
	if auth, err := api.AuthTest(); err != nil {
		emit("auth_error", map[string]any{"error": err.Error()})
	} else {
		emit("auth", map[string]any{"user_id": auth.UserID, "team_id": auth.TeamID})
	}
	client := socketmode.New(api)
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(seconds)*time.Second)
	defer cancel()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case evt := <-client.Events:
				switch evt.Type {
				case socketmode.EventTypeEventsAPI:
					inner, ok := evt.Data.(slackevents.EventsAPIEvent)
					fields := map[string]any{}
					if ok {
						fields["type"] = inner.InnerEvent.Type
						// The struct the event decoded into, as the bridge's type switch sees it.
						fields["data_type"] = fmt.Sprintf("%T", inner.InnerEvent.Data)
					}
					if evt.Request != nil {
						fields["envelope_id"] = evt.Request.EnvelopeID
						fields["retry_attempt"] = evt.Request.RetryAttempt
						client.Ack(*evt.Request)
					}
					emit("event", fields)
				case socketmode.EventTypeErrorBadMessage, socketmode.EventTypeErrorWriteFailed, socketmode.EventTypeIncomingError, socketmode.EventTypeConnectionError:
					emit(string(evt.Type), map[string]any{"data": fmt.Sprint(evt.Data)})
				default:
					emit(string(evt.Type), nil)
				}
			}
		}
	}()
	err := client.RunContext(ctx)
	emit("exit", map[string]any{"error": fmt.Sprint(err)})
}

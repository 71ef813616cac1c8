// The bridge's Slack library (slack-go fork pinned by mautrix-slack v0.2.0) calling every Web API
// method the bridge calls, the way the bridge calls them, and decoding every Socket Mode event with
// its strict types. One JSON line per result on stdout. Stdin lines drive the phases:
// "bridge" runs the Matrix->Slack calls; "exit" stops.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

func emit(kind string, fields map[string]any) {
	if fields == nil {
		fields = map[string]any{}
	}
	fields["kind"] = kind
	b, err := json.Marshal(fields)
	if err != nil {
		b, _ = json.Marshal(map[string]any{"kind": "marshal_error", "error": err.Error()})
	}
	fmt.Println(string(b))
}

func result(call string, err error, fields map[string]any) {
	if fields == nil {
		fields = map[string]any{}
	}
	fields["call"] = call
	if err != nil {
		fields["error"] = err.Error()
	}
	emit("call", fields)
}

func blocks(text string) slack.MsgOption {
	return slack.MsgOptionBlocks(slack.NewRichTextBlock("", slack.NewRichTextSection(slack.NewRichTextSectionTextElement(text, nil))))
}

func main() {
	channel := os.Getenv("CHANNEL")
	api := slack.New(os.Getenv("BOT_TOKEN"), slack.OptionAppLevelToken(os.Getenv("APP_TOKEN")))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// Login and first sync, as pkg/connector/client.go does for a bot.
	auth, err := api.AuthTestContext(ctx)
	if err != nil {
		result("auth.test", err, nil)
		return
	}
	result("auth.test", nil, map[string]any{"team_id": auth.TeamID, "user_id": auth.UserID, "bot_id": auth.BotID, "team": auth.Team, "user": auth.User})
	team, err := api.GetTeamInfoContext(ctx)
	result("team.info", err, map[string]any{"team": team})
	self, err := api.GetUserInfoContext(ctx, auth.UserID)
	result("users.info", err, map[string]any{"user": self})
	emoji, err := api.GetEmojiContext(ctx)
	result("emoji.list", err, map[string]any{"count": len(emoji)})
	chans, next, err := api.GetConversationsForUserContext(ctx, &slack.GetConversationsForUserParameters{
		Types: []string{"public_channel", "private_channel", "mpim", "im"}, Limit: 50,
	})
	ids := []string{}
	for _, c := range chans {
		ids = append(ids, c.ID)
	}
	result("users.conversations", err, map[string]any{"ids": ids, "next": next})
	for _, id := range ids {
		info, err := api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: id, IncludeLocale: true, IncludeNumMembers: true})
		result("conversations.info", err, map[string]any{"channel": info})
	}
	members, _, err := api.GetUsersInConversationContext(ctx, &slack.GetUsersInConversationParameters{ChannelID: channel, Limit: 5})
	result("conversations.members", err, map[string]any{"members": members})
	bot, err := api.GetBotInfoContext(ctx, slack.GetBotInfoParameters{Bot: auth.BotID})
	result("bots.info", err, map[string]any{"bot": bot})

	client := socketmode.New(api)
	go func() {
		for evt := range client.Events {
			switch evt.Type {
			case socketmode.EventTypeEventsAPI:
				outer, _ := evt.Data.(slackevents.EventsAPIEvent)
				emit("event", map[string]any{
					"outer":   outer.Type,
					"type":    outer.InnerEvent.Type,
					"go_type": fmt.Sprintf("%T", outer.InnerEvent.Data),
					"data":    outer.InnerEvent.Data,
				})
				if evt.Request != nil {
					client.Ack(*evt.Request)
				}
			case socketmode.EventTypeErrorBadMessage, socketmode.EventTypeIncomingError:
				emit("bad_message", map[string]any{"data": fmt.Sprint(evt.Data)})
			default:
				emit(string(evt.Type), nil)
			}
		}
	}()
	go func() {
		err := client.RunContext(ctx)
		emit("exit", map[string]any{"error": fmt.Sprint(err)})
	}()

	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		switch in.Text() {
		case "bridge":
			bridgeCalls(ctx, api, channel)
			emit("bridge_done", nil)
		case "exit":
			return
		}
	}
}

// Matrix -> Slack, as pkg/connector/handlematrix.go sends them.
func bridgeCalls(ctx context.Context, api *slack.Client, channel string) {
	_, ts, err := api.PostMessageContext(ctx, channel, blocks("from matrix"), slack.MsgOptionDisableLinkUnfurl(), slack.MsgOptionDisableMediaUnfurl())
	result("chat.postMessage", err, map[string]any{"ts": ts})
	_, replyTs, err := api.PostMessageContext(ctx, channel, blocks("threaded from matrix"), slack.MsgOptionTS(ts))
	result("chat.postMessage/thread", err, map[string]any{"ts": replyTs})
	_, meTs, err := api.PostMessageContext(ctx, channel, blocks("waves"), slack.MsgOptionMeMessage())
	result("chat.meMessage", err, map[string]any{"ts": meTs})
	_, editTs, _, err := api.UpdateMessageContext(ctx, channel, ts, blocks("edited from matrix"))
	result("chat.update", err, map[string]any{"ts": editTs})
	err = api.AddReactionContext(ctx, "thumbsup", slack.NewRefToMessage(channel, ts))
	result("reactions.add", err, nil)
	err = api.RemoveReactionContext(ctx, "thumbsup", slack.NewRefToMessage(channel, ts))
	result("reactions.remove", err, nil)
	_, _, err = api.DeleteMessageContext(ctx, channel, meTs)
	result("chat.delete", err, nil)
	data := bytes.Repeat([]byte("x"), 3*1024*1024)
	file, err := api.UploadFileV2Context(ctx, slack.UploadFileV2Parameters{
		Filename: "photo.png", Reader: bytes.NewReader(data), FileSize: len(data), Channel: channel, InitialComment: "caption",
	})
	fields := map[string]any{}
	if file != nil {
		fields["id"] = file.ID
		if s, ok := file.Shares.Public[channel]; ok && len(s) > 0 {
			fields["share_ts"] = s[0].Ts
		}
		if s, ok := file.Shares.Private[channel]; ok && len(s) > 0 {
			fields["share_ts"] = s[0].Ts
		}
	}
	result("files.upload.v2", err, fields)
	if file != nil {
		info, _, _, err := api.GetFileInfoContext(ctx, file.ID, 0, 0)
		result("files.info", err, map[string]any{"size": info.Size, "url": info.URLPrivateDownload})
		var buf bytes.Buffer
		err = api.GetFileContext(ctx, info.URLPrivateDownload, &buf)
		result("files.download", err, map[string]any{"size": buf.Len(), "same": bytes.Equal(buf.Bytes(), data)})
	}
	hist, err := api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: channel, Limit: 3})
	texts := []string{}
	if hist != nil {
		for _, m := range hist.Messages {
			texts = append(texts, m.Text)
		}
	}
	result("conversations.history", err, map[string]any{"texts": texts, "has_more": hist != nil && hist.HasMore})
	replies, err := api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
		GetConversationHistoryParameters: slack.GetConversationHistoryParameters{ChannelID: channel}, Timestamp: ts,
	})
	count := 0
	if replies != nil {
		count = len(replies.Messages)
	}
	result("conversations.replies", err, map[string]any{"count": count})
}

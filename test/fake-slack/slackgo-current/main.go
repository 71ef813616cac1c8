// The Slack calls mautrix-slack's current release (v0.2608.0, pkg/connector) makes in app-login mode,
// replayed through upstream slack-go v0.35 against the fake, the way the connector makes them, plus the
// requests its fork adds (the edge API user search) and its plain image downloads. Socket Mode events are
// decoded with slack-go's strict types. One JSON line per result on stdout; stdin "replay" runs the calls,
// "exit" stops.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
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

// downloadPlainFile is how the connector fetches avatars, team icons and custom emoji: a plain GET,
// status unchecked (pkg/connector/emoji.go).
func downloadPlainFile(ctx context.Context, url string) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return data, resp.StatusCode, err
}

func imageResult(ctx context.Context, call, url string) {
	data, status, err := downloadPlainFile(ctx, url)
	result(call, err, map[string]any{"url": url, "status": status, "content_type": http.DetectContentType(data), "size": len(data)})
}

// searchUsers is the fork's SearchUsersCacheContext: a JSON body sent as text/plain to the edge API.
func searchUsers(ctx context.Context, token, teamID, query string) {
	body, _ := json.Marshal(map[string]any{
		"count": 24, "filter": "NOT deactivated", "fuzz": 1, "include_profile_only_users": true,
		"query": query, "search_email": true, "token": token, "uax29_tokenizer": false,
	})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, fmt.Sprintf("https://edgeapi.slack.com/cache/%s/users/search", teamID), bytes.NewReader(body))
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		result("edge.users.search", err, nil)
		return
	}
	defer resp.Body.Close()
	var out struct {
		slack.SlackResponse
		Results []*slack.User `json:"results"`
	}
	err = json.NewDecoder(resp.Body).Decode(&out)
	if err == nil {
		err = out.Err()
	}
	ids := []string{}
	for _, u := range out.Results {
		ids = append(ids, u.ID)
	}
	result("edge.users.search", err, map[string]any{"ids": ids})
}

func blocks(text string) slack.MsgOption {
	return slack.MsgOptionBlocks(slack.NewRichTextBlock("", slack.NewRichTextSection(slack.NewRichTextSectionTextElement(text, nil))))
}

func replay(ctx context.Context, api *slack.Client) {
	// Connect (pkg/connector/client.go, bot login): team, self, team icon.
	auth, err := api.AuthTestContext(ctx)
	result("auth.test", err, nil)
	if err != nil {
		return
	}
	team, err := api.GetTeamInfoContext(ctx)
	result("team.info", err, nil)
	if err == nil {
		if url, _ := team.Icon["image_230"].(string); url != "" && team.Icon["image_default"] != true {
			imageResult(ctx, "team.icon", url)
		}
	}
	_, err = api.GetUserInfoContext(ctx, auth.UserID)
	result("users.info self", err, nil)
	emoji, err := api.GetEmojiContext(ctx)
	result("emoji.list", err, map[string]any{"count": len(emoji)})
	for name, url := range emoji {
		if len(url) > 6 && url[:6] != "alias:" {
			imageResult(ctx, "emoji "+name, url)
		}
	}

	// Channel sync: users.conversations, conversations.info (posting_restricted_to sets the topic
	// power level), members and their ghosts with avatars.
	channels, _, err := api.GetConversationsForUserContext(ctx, &slack.GetConversationsForUserParameters{
		Types: []string{"public_channel", "private_channel", "mpim", "im"}, Limit: 200,
	})
	result("users.conversations", err, map[string]any{"count": len(channels)})
	for _, ch := range channels {
		info, err := api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: ch.ID, IncludeLocale: true, IncludeNumMembers: true})
		fields := map[string]any{"channel": ch.ID}
		if err == nil {
			fields["name"] = info.Name
			if info.Properties != nil {
				fields["posting_restricted_to"] = info.Properties.PostingRestrictedTo.Type
			}
		}
		result("conversations.info", err, fields)
		if err != nil || info.IsIM || info.IsMpIM {
			continue
		}
		members, _, err := api.GetUsersInConversation(&slack.GetUsersInConversationParameters{ChannelID: ch.ID, Limit: 5})
		result("conversations.members", err, map[string]any{"channel": ch.ID, "count": len(members)})
		for _, m := range members {
			user, err := api.GetUserInfoContext(ctx, m)
			result("users.info", err, map[string]any{"user": m})
			if err == nil && user.Profile.ImageOriginal != "" {
				imageResult(ctx, "avatar "+user.Name, user.Profile.ImageOriginal)
			}
		}
	}

	// Rendering <!subteam^…> mentions (pkg/connector/chatinfo.go GetUserGroupInfoForMention).
	groups, err := api.GetUserGroupsContext(ctx,
		slack.GetUserGroupsOptionTeamID(auth.TeamID),
		slack.GetUserGroupsOptionIncludeDisabled(true),
		slack.GetUserGroupsOptionIncludeUsers(true))
	handles := map[string][]string{}
	for _, g := range groups {
		handles[g.Handle] = g.Users
	}
	result("usergroups.list", err, map[string]any{"groups": handles})

	// Identifier lookups (pkg/connector/startchat.go): users.info, then the edge user search.
	searchUsers(ctx, os.Getenv("BOT_TOKEN"), auth.TeamID, "bob")

	// Matrix -> Slack (pkg/connector/handlematrix.go).
	channel := os.Getenv("CHANNEL")
	_, ts, err := api.PostMessageContext(ctx, channel, blocks("if a < b & c"))
	result("chat.postMessage", err, map[string]any{"ts": ts})
	history, err := api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: channel, Limit: 1})
	fields := map[string]any{}
	if err == nil && len(history.Messages) > 0 {
		fields["text"] = history.Messages[0].Text
	}
	result("conversations.history", err, fields)
	err = api.AddReactionContext(ctx, "tada", slack.ItemRef{Channel: channel, Timestamp: ts})
	result("reactions.add", err, nil)
	err = api.RemoveReactionContext(ctx, "tada", slack.ItemRef{Channel: channel, Timestamp: ts})
	result("reactions.remove", err, nil)
	_, err = api.SetTopicOfConversationContext(ctx, channel, "Topic from Matrix")
	result("conversations.setTopic", err, nil)
	private := os.Getenv("PRIVATE_CHANNEL")
	target := os.Getenv("KICK_USER")
	_, err = api.InviteUsersToConversationContext(ctx, private, target)
	result("conversations.invite", err, nil)
	err = api.KickUserFromConversationContext(ctx, private, target)
	result("conversations.kick", err, nil)
	err = api.KickUserFromConversationContext(ctx, channel, target)
	result("conversations.kick public", err, nil)
	_, err = api.LeaveConversationContext(ctx, private)
	result("conversations.leave", err, nil)
	im, _, _, err := api.OpenConversationContext(ctx, &slack.OpenConversationParameters{ReturnIM: true, Users: []string{target}})
	fields = map[string]any{}
	if err == nil {
		fields["is_im"] = im.IsIM
	}
	result("conversations.open", err, fields)
	_, err = api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: channel, Latest: "not-a-ts"})
	result("conversations.history bad latest", err, nil)
	emit("replay_done", nil)
}

func main() {
	api := slack.New(os.Getenv("BOT_TOKEN"), slack.OptionAppLevelToken(os.Getenv("APP_TOKEN")))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sm := socketmode.New(api)
	go func() {
		for evt := range sm.Events {
			switch evt.Type {
			case socketmode.EventTypeConnected:
				emit("connected", nil)
			case socketmode.EventTypeEventsAPI:
				ea, ok := evt.Data.(slackevents.EventsAPIEvent)
				if !ok {
					emit("bad_message", map[string]any{"go_type": fmt.Sprintf("%T", evt.Data)})
				} else {
					raw, _ := json.Marshal(ea.InnerEvent.Data)
					var data map[string]any
					_ = json.Unmarshal(raw, &data)
					emit("event", map[string]any{"type": ea.InnerEvent.Type, "go_type": fmt.Sprintf("%T", ea.InnerEvent.Data), "data": data})
				}
				sm.Ack(*evt.Request)
			case socketmode.EventTypeErrorBadMessage, socketmode.EventTypeIncomingError:
				emit("bad_message", map[string]any{"data": fmt.Sprintf("%v", evt.Data)})
			}
		}
	}()
	go func() {
		if err := sm.RunContext(ctx); err != nil && ctx.Err() == nil {
			emit("socket_error", map[string]any{"error": err.Error()})
		}
	}()
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		switch in.Text() {
		case "replay":
			replay(ctx, api)
		case "exit":
			return
		}
	}
}

package wechat

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/silenceper/wechat/v2/util"
)

// Push event names.
const (
	// EventMediaCheck is the asynchronous verdict of MediaCheckAsync.
	EventMediaCheck = "wxa_media_check"
)

// PushEvent is an authenticated (and, in safe mode, decrypted) message push
// in JSON format. Event-specific fields are filled for wxa_media_check; for
// other events only Event, AppID and Raw are meaningful.
type PushEvent struct {
	Event   string
	TraceID string
	Suggest string // "pass" | "review" | "risky"
	Label   int
	AppID   string
	// ErrCode/ErrMsg: a non-zero ErrCode means WeChat could not check the
	// media (e.g. it could not download it); Suggest is then not meaningful.
	ErrCode int
	ErrMsg  string
	// Raw is the plaintext JSON of the push.
	Raw []byte
}

// VerifyURL answers WeChat's GET verification of the push URL: it checks
// signature = sha1(sorted token, timestamp, nonce) and returns echostr, which
// the handler must write back verbatim.
func (c *Client) VerifyURL(q url.Values) (echostr string, err error) {
	if !c.checkSignature(q.Get("signature"), q.Get("timestamp"), q.Get("nonce")) {
		return "", ErrBadSignature
	}
	echostr = q.Get("echostr")
	if echostr == "" {
		return "", fmt.Errorf("%w: missing echostr", ErrBadPush)
	}
	return echostr, nil
}

func (c *Client) checkSignature(sig, timestamp, nonce string) bool {
	if c.cfg.PushToken == "" || sig == "" {
		return false
	}
	return equal(sig, util.Signature(c.cfg.PushToken, timestamp, nonce))
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// ParsePush authenticates and parses a POSTed push (query q, body as read).
//
// Plain mode: signature = sha1(sorted token, timestamp, nonce).
// Safe mode (encrypt_type=aes): body {"ToUserName","Encrypt"}, msg_signature =
// sha1(sorted token, timestamp, nonce, Encrypt) (and signature, if present,
// must be valid too); Encrypt is AES-256-CBC(key = base64(EncodingAESKey+"="),
// IV = key[:16], PKCS#7/32) of 16 random bytes + 4-byte big-endian length +
// message + appid, and the appid must be ours.
//
// Authentication failures return ErrBadSignature, malformed content ErrBadPush.
func (c *Client) ParsePush(q url.Values, body []byte) (PushEvent, error) {
	timestamp, nonce := q.Get("timestamp"), q.Get("nonce")
	var plain []byte
	if q.Get("encrypt_type") == "aes" {
		var env struct {
			Encrypt string `json:"Encrypt"`
		}
		if err := json.Unmarshal(body, &env); err != nil || env.Encrypt == "" {
			return PushEvent{}, fmt.Errorf("%w: safe-mode body without Encrypt", ErrBadPush)
		}
		if c.cfg.PushToken == "" || !equal(q.Get("msg_signature"), util.Signature(c.cfg.PushToken, timestamp, nonce, env.Encrypt)) {
			return PushEvent{}, ErrBadSignature
		}
		if q.Has("signature") && !c.checkSignature(q.Get("signature"), timestamp, nonce) {
			return PushEvent{}, ErrBadSignature
		}
		if len(c.cfg.PushAESKey) != 43 {
			return PushEvent{}, fmt.Errorf("%w: encrypted push but no valid PushAESKey configured", ErrBadSignature)
		}
		_, msg, err := util.DecryptMsg(c.cfg.AppID, env.Encrypt, c.cfg.PushAESKey)
		if err != nil {
			return PushEvent{}, fmt.Errorf("%w: cannot decrypt push or appid mismatch", ErrBadSignature)
		}
		plain = msg
	} else {
		if !c.checkSignature(q.Get("signature"), timestamp, nonce) {
			return PushEvent{}, ErrBadSignature
		}
		plain = body
	}

	var m mediaCheckPush
	if err := json.Unmarshal(plain, &m); err != nil {
		return PushEvent{}, fmt.Errorf("%w: %v", ErrBadPush, err)
	}
	if m.AppID != "" && m.AppID != c.cfg.AppID {
		return PushEvent{}, fmt.Errorf("%w: push for another appid", ErrBadPush)
	}
	ev := PushEvent{Event: m.Event, AppID: m.AppID, Raw: append([]byte(nil), plain...)}
	if m.Event == EventMediaCheck {
		if m.TraceID == "" {
			return PushEvent{}, fmt.Errorf("%w: wxa_media_check without trace_id", ErrBadPush)
		}
		ev.TraceID = m.TraceID
		ev.Suggest = m.Result.Suggest
		ev.Label = m.Result.Label
		ev.ErrCode = m.ErrCode
		ev.ErrMsg = m.ErrMsg
	}
	return ev, nil
}

// mediaCheckPush is the JSON of a wxa_media_check event.
type mediaCheckPush struct {
	ToUserName   string `json:"ToUserName"`
	FromUserName string `json:"FromUserName"`
	CreateTime   int64  `json:"CreateTime"`
	MsgType      string `json:"MsgType"`
	Event        string `json:"Event"`
	AppID        string `json:"appid"`
	TraceID      string `json:"trace_id"`
	Version      int    `json:"version"`
	ErrCode      int    `json:"errcode"`
	ErrMsg       string `json:"errmsg"`
	Result       struct {
		Suggest string `json:"suggest"`
		Label   int    `json:"label"`
	} `json:"result"`
}

// EncryptPush builds a safe-mode push body {"ToUserName","Encrypt"} for msg
// (ToUserName copied from msg when present) and its msg_signature =
// sha1(sorted token, timestamp, nonce, Encrypt). The plain "signature" query
// parameter WeChat also sends is util.Signature(token, timestamp, nonce).
// Used by the simulator and tests. It panics if aesKey is not a valid
// 43-character EncodingAESKey.
func EncryptPush(token, aesKey, appID string, msg []byte, timestamp, nonce string) (body []byte, msgSignature string) {
	random := make([]byte, 16)
	if _, err := rand.Read(random); err != nil {
		panic(err)
	}
	if len(aesKey) != 43 {
		panic("wechat.EncryptPush: EncodingAESKey must have 43 characters")
	}
	enc, err := util.EncryptMsg(random, msg, appID, aesKey)
	if err != nil {
		panic("wechat.EncryptPush: invalid EncodingAESKey")
	}
	var head struct {
		ToUserName string `json:"ToUserName"`
	}
	_ = json.Unmarshal(msg, &head)
	body, err = json.Marshal(struct {
		ToUserName string `json:"ToUserName,omitempty"`
		Encrypt    string `json:"Encrypt"`
	}{head.ToUserName, string(enc)})
	if err != nil {
		panic(err)
	}
	return body, util.Signature(token, timestamp, nonce, string(enc))
}

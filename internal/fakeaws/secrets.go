package fakeaws

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
)

type secret struct {
	arn, name, value, version string
	created                   time.Time
}

// AddSecret creates a secret whose SecretString is value. Its name is the ARN's last part less
// the six random characters Secrets Manager appends ("…:secret:hookline-sources-AbCdEf" is named
// "hookline-sources"); a SecretId may be either.
func (s *Server) AddSecret(arn, value string) {
	name := arn[strings.LastIndex(arn, ":")+1:]
	if i := strings.LastIndex(name, "-"); i > 0 && len(name)-i == 7 {
		name = name[:i]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secrets[arn] = &secret{arn: arn, name: name, value: value, version: uuid.NewString(), created: time.Now()}
}

func (s *Server) findSecret(id string) *secret {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sec := range s.secrets {
		if sec.arn == id || sec.name == id {
			return sec
		}
	}
	return nil
}

func (s *Server) serveSecretsManager(req *request) {
	var in struct {
		SecretID     string `json:"SecretId"`
		SecretString string `json:"SecretString"`
	}
	if err := json.Unmarshal(req.body, &in); err != nil {
		jsonError(req.w, http.StatusBadRequest, "InvalidRequestException", err.Error())
		return
	}
	switch req.op {
	case "GetSecretValue", "PutSecretValue", "DescribeSecret":
	default:
		s.unknown(req, "Secrets Manager "+req.op)
		return
	}
	sec := s.findSecret(in.SecretID)
	resource := in.SecretID
	if sec != nil {
		resource = sec.arn
	}
	if err := s.allow(req, "secretsmanager:"+req.op, []string{resource}, nil); err != nil {
		jsonError(req.w, http.StatusBadRequest, "AccessDeniedException", err.Error())
		return
	}
	if sec == nil {
		jsonError(req.w, http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch req.op {
	case "GetSecretValue":
		jsonReply(req.w, map[string]any{
			"ARN": sec.arn, "Name": sec.name, "SecretString": sec.value, "VersionId": sec.version,
			"VersionStages": []string{"AWSCURRENT"}, "CreatedDate": float64(sec.created.UnixMilli()) / 1000,
		})
	case "PutSecretValue":
		sec.value, sec.version = in.SecretString, uuid.NewString()
		jsonReply(req.w, map[string]any{"ARN": sec.arn, "Name": sec.name, "VersionId": sec.version, "VersionStages": []string{"AWSCURRENT"}})
	case "DescribeSecret":
		jsonReply(req.w, map[string]any{"ARN": sec.arn, "Name": sec.name})
	}
}

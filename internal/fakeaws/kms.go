package fakeaws

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

// serveKMS answers GenerateDataKey and Decrypt (AWS JSON 1.1, "TrentService"). A data key is
// wrapped with the server's own AES-GCM key, bound to the KMS key's ARN and the encryption
// context as KMS binds them, so a Decrypt with another context fails as on AWS.
func (s *Server) serveKMS(req *request) {
	var in struct {
		KeyID             string `json:"KeyId"`
		KeySpec           string
		EncryptionContext map[string]string
		CiphertextBlob    []byte
	}
	if err := json.Unmarshal(req.body, &in); err != nil {
		jsonError(req.w, http.StatusBadRequest, "ValidationException", err.Error())
		return
	}
	switch req.op {
	case "GenerateDataKey":
		if in.KeySpec != "AES_256" {
			jsonError(req.w, http.StatusBadRequest, "ValidationException", "the fake makes AES_256 data keys only")
			return
		}
		arn := s.keyARN(in.KeyID)
		if err := s.allow(req, "kms:GenerateDataKey", []string{arn}, nil); err != nil {
			jsonError(req.w, http.StatusBadRequest, "AccessDeniedException", err.Error())
			return
		}
		plain := make([]byte, 32)
		_, _ = rand.Read(plain)
		jsonReply(req.w, map[string]any{"KeyId": arn, "Plaintext": plain, "CiphertextBlob": s.wrap(arn, in.EncryptionContext, plain)})
	case "Decrypt":
		arn, plain, ok := s.unwrap(in.CiphertextBlob, in.EncryptionContext)
		resource := arn
		if !ok && arn == "" {
			resource = "*"
		}
		if err := s.allow(req, "kms:Decrypt", []string{resource}, nil); err != nil {
			jsonError(req.w, http.StatusBadRequest, "AccessDeniedException", err.Error())
			return
		}
		if !ok {
			jsonError(req.w, http.StatusBadRequest, "InvalidCiphertextException", "")
			return
		}
		jsonReply(req.w, map[string]any{"KeyId": arn, "Plaintext": plain, "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"})
	default:
		s.unknown(req, "KMS "+req.op)
	}
}

// keyARN is the ARN of a key named by id or ARN.
func (s *Server) keyARN(id string) string {
	if strings.HasPrefix(id, "arn:") {
		return id
	}
	return "arn:aws:kms:" + s.Region + ":" + s.Account + ":key/" + id
}

// kmsAAD binds a wrapped key to its KMS key and encryption context.
func kmsAAD(arn string, ctx map[string]string) []byte {
	keys := make([]string, 0, len(ctx))
	for k := range ctx {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	aad := arn
	for _, k := range keys {
		aad += "\x00" + k + "=" + ctx[k]
	}
	return []byte(aad)
}

func (s *Server) kmsAEAD() cipher.AEAD {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kmsKey == nil {
		s.kmsKey = make([]byte, 32)
		_, _ = rand.Read(s.kmsKey)
	}
	block, _ := aes.NewCipher(s.kmsKey)
	aead, _ := cipher.NewGCM(block)
	return aead
}

// wrap is the ARN's length (2 bytes), the ARN, a nonce and the sealed data key.
func (s *Server) wrap(arn string, ctx map[string]string, plain []byte) []byte {
	aead := s.kmsAEAD()
	out := binary.BigEndian.AppendUint16(nil, uint16(len(arn)))
	out = append(out, arn...)
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	out = append(out, nonce...)
	return aead.Seal(out, nonce, plain, kmsAAD(arn, ctx))
}

func (s *Server) unwrap(blob []byte, ctx map[string]string) (arn string, plain []byte, ok bool) {
	aead := s.kmsAEAD()
	if len(blob) < 2 {
		return "", nil, false
	}
	n := int(binary.BigEndian.Uint16(blob))
	if len(blob) < 2+n+aead.NonceSize() {
		return "", nil, false
	}
	arn = string(blob[2 : 2+n])
	nonce, sealed := blob[2+n:2+n+aead.NonceSize()], blob[2+n+aead.NonceSize():]
	plain, err := aead.Open(nil, nonce, sealed, kmsAAD(arn, ctx))
	return arn, plain, err == nil
}

package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"

	"golang.org/x/crypto/bcrypt"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Character classes and defaults of terraform-provider-random's random_password, which pulumi-random bridges.
const (
	lowerChars     = "abcdefghijklmnopqrstuvwxyz"
	upperChars     = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	numericChars   = "0123456789"
	defaultSpecial = "!@#$%&*()-_=+[]{}<>:?"
	// bcrypt hashes at most 72 bytes; upstream hashes the first 72 of a longer password.
	bcryptMaxBytes = 72
)

var (
	passwordBools = []resource.PropertyKey{"lower", "upper", "numeric", "special"}
	passwordMins  = []resource.PropertyKey{"minLower", "minUpper", "minNumeric", "minSpecial"}
)

func failure(key, reason string) *pulumirpc.CheckFailure {
	return &pulumirpc.CheckFailure{Property: key, Reason: reason}
}

// checkLength validates `length` (required, a whole number >= minimum) unless it is still unknown.
func checkLength(inputs resource.PropertyMap, minimum int) (int, bool, []*pulumirpc.CheckFailure) {
	v, ok := inputs["length"]
	if !ok || v.IsNull() {
		return 0, false, []*pulumirpc.CheckFailure{failure("length", "missing required property 'length'")}
	}
	if v.ContainsUnknowns() {
		return 0, false, nil
	}
	if v.IsSecret() {
		v = v.SecretValue().Element
	}
	if !v.IsNumber() || v.NumberValue() != math.Trunc(v.NumberValue()) || v.NumberValue() < float64(minimum) {
		return 0, false, []*pulumirpc.CheckFailure{
			failure("length", fmt.Sprintf("length must be a whole number of at least %d", minimum)),
		}
	}
	return int(v.NumberValue()), true, nil
}

func checkKeepers(inputs resource.PropertyMap) []*pulumirpc.CheckFailure {
	if v, ok := inputs["keepers"]; ok && !v.IsNull() && !v.ContainsUnknowns() && !v.IsObject() && !v.IsSecret() {
		return []*pulumirpc.CheckFailure{failure("keepers", "keepers must be a map of strings")}
	}
	return nil
}

func checkBytes(inputs resource.PropertyMap) (resource.PropertyMap, []*pulumirpc.CheckFailure) {
	_, _, failures := checkLength(inputs, 1)
	return inputs, append(failures, checkKeepers(inputs)...)
}

func checkPassword(inputs resource.PropertyMap) (resource.PropertyMap, []*pulumirpc.CheckFailure) {
	out := inputs.Copy()
	length, lengthKnown, failures := checkLength(inputs, 1)
	failures = append(failures, checkKeepers(inputs)...)
	// `number` is the deprecated spelling of `numeric`; upstream keeps both and they agree.
	if n, ok := out["number"]; ok && !n.IsNull() {
		if _, has := out["numeric"]; !has {
			out["numeric"] = n
		}
	}
	for _, key := range passwordBools {
		v, ok := out[key]
		if ok && v.IsSecret() {
			v = v.SecretValue().Element
		}
		switch {
		case !ok || v.IsNull():
			out[key] = resource.NewProperty(true)
		case !v.ContainsUnknowns() && !v.IsBool():
			failures = append(failures, failure(string(key), string(key)+" must be a boolean"))
		}
	}
	if _, ok := out["number"]; !ok {
		out["number"] = out["numeric"]
	}
	minimums, allKnown := 0, lengthKnown
	for _, key := range passwordMins {
		v, ok := out[key]
		if ok && v.IsSecret() {
			v = v.SecretValue().Element
		}
		switch {
		case !ok || v.IsNull():
			out[key] = resource.NewProperty(0.0)
		case v.ContainsUnknowns():
			allKnown = false
		case !v.IsNumber() || v.NumberValue() < 0 || v.NumberValue() != math.Trunc(v.NumberValue()):
			failures = append(failures, failure(string(key), string(key)+" must be a whole number >= 0"))
		default:
			minimums += int(v.NumberValue())
		}
	}
	if v := plain(out, "overrideSpecial"); !v.IsNull() && !v.ContainsUnknowns() && !v.IsString() {
		failures = append(failures, failure("overrideSpecial", "overrideSpecial must be a string"))
	}
	if allKnown && len(failures) == 0 && length < minimums {
		failures = append(failures, failure("length",
			fmt.Sprintf("length (%d) must be >= minUpper + minLower + minNumeric + minSpecial (%d)", length, minimums)))
	}
	return out, failures
}

// plain reads inputs with secrets unwrapped: a secret length or flag is still a length or flag.
func plain(inputs resource.PropertyMap, key resource.PropertyKey) resource.PropertyValue {
	v := inputs[key]
	if v.IsSecret() {
		return v.SecretValue().Element
	}
	return v
}

func randomBytes(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("reading crypto/rand: %w", err)
	}
	return b, nil
}

func generateBytes(inputs resource.PropertyMap) (resource.PropertyMap, error) {
	b, err := randomBytes(int(plain(inputs, "length").NumberValue()))
	if err != nil {
		return nil, err
	}
	out := inputs.Copy()
	out["base64"] = resource.NewProperty(base64.StdEncoding.EncodeToString(b))
	out["hex"] = resource.NewProperty(hex.EncodeToString(b))
	return out, nil
}

// pick returns n characters drawn uniformly from chars.
func pick(chars string, n int) ([]byte, error) {
	if n > 0 && chars == "" {
		return nil, fmt.Errorf("no character class is enabled to fill %d characters", n)
	}
	out := make([]byte, n)
	for i := range out {
		idx, err := rand.Int(rand.Reader, big.NewInt(int64(len(chars))))
		if err != nil {
			return nil, fmt.Errorf("reading crypto/rand: %w", err)
		}
		out[i] = chars[idx.Int64()]
	}
	return out, nil
}

// generatePassword follows upstream: the minimum of each class first, the rest from every enabled class, then a
// shuffle so the guaranteed characters are not at the front.
func generatePassword(inputs resource.PropertyMap) (resource.PropertyMap, error) {
	special := defaultSpecial
	if v := plain(inputs, "overrideSpecial"); v.IsString() {
		special = v.StringValue()
	}
	classes := map[resource.PropertyKey]string{
		"lower": lowerChars, "upper": upperChars, "numeric": numericChars, "special": special,
	}
	minOf := map[resource.PropertyKey]resource.PropertyKey{
		"lower": "minLower", "upper": "minUpper", "numeric": "minNumeric", "special": "minSpecial",
	}
	var all string
	var result []byte
	for _, key := range passwordBools {
		if plain(inputs, key).BoolValue() {
			all += classes[key]
		}
		chars, err := pick(classes[key], int(plain(inputs, minOf[key]).NumberValue()))
		if err != nil {
			return nil, err
		}
		result = append(result, chars...)
	}
	rest, err := pick(all, int(plain(inputs, "length").NumberValue())-len(result))
	if err != nil {
		return nil, err
	}
	result = append(result, rest...)
	for i := len(result) - 1; i > 0; i-- {
		j, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		if err != nil {
			return nil, fmt.Errorf("reading crypto/rand: %w", err)
		}
		result[i], result[j.Int64()] = result[j.Int64()], result[i]
	}
	hashed := result
	if len(hashed) > bcryptMaxBytes {
		hashed = hashed[:bcryptMaxBytes]
	}
	hash, err := bcrypt.GenerateFromPassword(hashed, bcrypt.DefaultCost)
	if err != nil {
		return nil, fmt.Errorf("bcrypt: %w", err)
	}
	out := inputs.Copy()
	out["result"] = resource.NewProperty(string(result))
	out["bcryptHash"] = resource.NewProperty(string(hash))
	return out, nil
}

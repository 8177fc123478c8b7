package main

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

const (
	passwordType = tokens.Type("random:index/randomPassword:RandomPassword")
	bytesType    = tokens.Type("random:index/randomBytes:RandomBytes")
	// pulumi-random (a bridged Terraform provider) gives both resources the ID "none".
	resourceID = "none"
)

// kind describes one resource: how to default/validate its inputs and which outputs it computes.
type kind struct {
	check    func(resource.PropertyMap) (resource.PropertyMap, []*pulumirpc.CheckFailure)
	generate func(resource.PropertyMap) (resource.PropertyMap, error)
	computed []resource.PropertyKey // outputs only the provider knows; all are secret
}

var kinds = map[tokens.Type]kind{
	passwordType: {check: checkPassword, generate: generatePassword,
		computed: []resource.PropertyKey{"result", "bcryptHash"}},
	bytesType: {check: checkBytes, generate: generateBytes, computed: []resource.PropertyKey{"base64", "hex"}},
}

type randomProvider struct {
	pulumirpc.UnimplementedResourceProviderServer

	mu            sync.Mutex
	acceptSecrets bool
}

func kindOf(typ string) (kind, error) {
	k, ok := kinds[tokens.Type(typ)]
	if !ok {
		return kind{}, fmt.Errorf("resource type %q is not implemented by gitpod-cell's random stand-in "+
			"(only %s and %s)", typ, passwordType, bytesType)
	}
	return k, nil
}

func unmarshal(s *structpb.Struct) (resource.PropertyMap, error) {
	return plugin.UnmarshalProperties(s, plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, SkipNulls: true})
}

func (p *randomProvider) marshal(m resource.PropertyMap, keepUnknowns bool) (*structpb.Struct, error) {
	p.mu.Lock()
	secrets := p.acceptSecrets
	p.mu.Unlock()
	return plugin.MarshalProperties(m, plugin.MarshalOptions{KeepUnknowns: keepUnknowns, KeepSecrets: secrets})
}

func (p *randomProvider) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (p *randomProvider) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (p *randomProvider) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

func (p *randomProvider) Configure(
	_ context.Context, req *pulumirpc.ConfigureRequest,
) (*pulumirpc.ConfigureResponse, error) {
	p.mu.Lock()
	p.acceptSecrets = req.GetAcceptSecrets()
	p.mu.Unlock()
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true}, nil
}

func (p *randomProvider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	k, err := kindOf(string(resource.URN(req.GetUrn()).Type()))
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	checked, failures := k.check(news)
	if len(failures) > 0 {
		return &pulumirpc.CheckResponse{Failures: failures}, nil
	}
	inputs, err := p.marshal(checked, true)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CheckResponse{Inputs: inputs}, nil
}

// Diff replaces the resource when any input differs: every input of both resources is ForceNew upstream.
func (p *randomProvider) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	olds, err := unmarshal(req.GetOldInputs())
	if err != nil {
		return nil, err
	}
	if len(olds) == 0 { // an engine that does not send old inputs: compare against the state
		if olds, err = unmarshal(req.GetOlds()); err != nil {
			return nil, err
		}
		k, err := kindOf(string(resource.URN(req.GetUrn()).Type()))
		if err != nil {
			return nil, err
		}
		for _, key := range k.computed {
			delete(olds, key)
		}
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	keys := map[resource.PropertyKey]bool{}
	for key := range olds {
		keys[key] = true
	}
	for key := range news {
		keys[key] = true
	}
	detailed := map[string]*pulumirpc.PropertyDiff{}
	var replaces []string
	for key := range keys {
		oldValue, hadOld := olds[key]
		newValue, hasNew := news[key]
		var diffKind pulumirpc.PropertyDiff_Kind
		switch {
		case !hadOld:
			diffKind = pulumirpc.PropertyDiff_ADD_REPLACE
		case !hasNew:
			diffKind = pulumirpc.PropertyDiff_DELETE_REPLACE
		case newValue.ContainsUnknowns() || !oldValue.DeepEquals(newValue):
			diffKind = pulumirpc.PropertyDiff_UPDATE_REPLACE
		default:
			continue
		}
		replaces = append(replaces, string(key))
		detailed[string(key)] = &pulumirpc.PropertyDiff{Kind: diffKind, InputDiff: true}
	}
	sort.Strings(replaces)
	changes := pulumirpc.DiffResponse_DIFF_NONE
	if len(replaces) > 0 {
		changes = pulumirpc.DiffResponse_DIFF_SOME
	}
	return &pulumirpc.DiffResponse{
		Changes: changes, Replaces: replaces, Diffs: replaces, DetailedDiff: detailed, HasDetailedDiff: true,
	}, nil
}

func (p *randomProvider) Create(_ context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	k, err := kindOf(string(resource.URN(req.GetUrn()).Type()))
	if err != nil {
		return nil, err
	}
	inputs, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	var outputs resource.PropertyMap
	if req.GetPreview() {
		outputs = inputs.Copy()
		for _, key := range k.computed {
			outputs[key] = resource.MakeComputed(resource.NewProperty(""))
		}
	} else {
		if inputs.ContainsUnknowns() {
			return nil, fmt.Errorf("%s: inputs are still unknown at create time", req.GetUrn())
		}
		if outputs, err = k.generate(inputs); err != nil {
			return nil, err
		}
		for _, key := range k.computed {
			outputs[key] = resource.MakeSecret(outputs[key])
		}
	}
	props, err := p.marshal(outputs, req.GetPreview())
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: resourceID, Properties: props}, nil
}

// Read (refresh) returns the state unchanged: nothing outside Pulumi's state holds these values.
func (p *randomProvider) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	if len(req.GetProperties().GetFields()) == 0 {
		return nil, fmt.Errorf("%s: import is not supported by gitpod-cell's random stand-in", req.GetUrn())
	}
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: req.GetProperties(), Inputs: req.GetInputs()}, nil
}

func (p *randomProvider) Update(_ context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	return nil, fmt.Errorf("%s: every input change replaces this resource; an in-place update is a bug", req.GetUrn())
}

func (p *randomProvider) Delete(context.Context, *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func (p *randomProvider) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

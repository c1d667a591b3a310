package txoption

import (
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// MethodKind returns the (fedchain.txoption.kind) option of m, or
// Kind_KIND_UNSPECIFIED when m has none.
func MethodKind(m protoreflect.MethodDescriptor) Kind {
	opts := m.Options()
	if opts == nil {
		return Kind_KIND_UNSPECIFIED
	}
	k, _ := proto.GetExtension(opts, E_Kind).(Kind)
	return k
}

// IsBatch reports whether m carries the option (fedchain.txoption.batch):
// a batch call, whose encoded request the contracts bound.
func IsBatch(m protoreflect.MethodDescriptor) bool {
	opts := m.Options()
	if opts == nil {
		return false
	}
	b, _ := proto.GetExtension(opts, E_Batch).(bool)
	return b
}

// ContractName returns the name of the Fabric contract that serves s: its
// proto package, a dot, and its name in lower case without the "Service"
// suffix, e.g. "orchestrator.computetask" for orchestrator.ComputeTaskService.
func ContractName(s protoreflect.ServiceDescriptor) string {
	name := strings.TrimSuffix(string(s.Name()), "Service")
	return string(s.ParentFile().Package()) + "." + strings.ToLower(name)
}

// TransactionName returns the chaincode transaction name of m: its contract
// name, a colon and the method name, e.g. "orchestrator.computetask:RegisterTasks".
func TransactionName(m protoreflect.MethodDescriptor) string {
	return ContractName(m.Parent().(protoreflect.ServiceDescriptor)) + ":" + string(m.Name())
}

package ledger

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/fedchain/orchestrator/protos"
)

// TestTaskCodecFields checks the field numbers the codec writes against
// the messages' descriptors.
func TestTaskCodecFields(t *testing.T) {
	task := (&protos.ComputeTask{}).ProtoReflect().Descriptor()
	page := (&protos.QueryTasksResponse{}).ProtoReflect().Descriptor()
	for _, c := range []struct {
		md   protoreflect.MessageDescriptor
		name protoreflect.Name
		num  protowire.Number
		kind protoreflect.Kind
		list bool
	}{
		{task, "compute_plan_key", ctFieldPlan, protoreflect.StringKind, false},
		{task, "status", ctFieldStatus, protoreflect.EnumKind, false},
		{task, "worker", ctFieldWorker, protoreflect.StringKind, false},
		{task, "function_key", ctFieldFunction, protoreflect.StringKind, false},
		{page, "tasks", ctPageFieldTasks, protoreflect.MessageKind, true},
		{page, "next_page_token", ctPageFieldToken, protoreflect.StringKind, false},
	} {
		fd := c.md.Fields().ByName(c.name)
		if fd == nil || fd.Number() != c.num || fd.Kind() != c.kind || fd.IsList() != c.list {
			t.Errorf("%s.%s: descriptor %v, the codec writes number %d kind %v", c.md.Name(), c.name, fd, c.num, c.kind)
		}
	}
	if n := task.Oneofs().Len(); n != 0 {
		t.Errorf("ComputeTask has %d oneofs: its fields are no longer encoded in number order", n)
	}
}

// codecTasks are tasks of every shape the codec meets: status set or not,
// fields before and after the status, maps, repeated fields, long strings.
func codecTasks() []*protos.ComputeTask {
	full := &protos.ComputeTask{
		Key: "k1", Owner: "o", ComputePlanKey: "plan", Rank: 3, Status: protos.ComputeTaskStatus_STATUS_WAITING_FOR_PARENT_TASKS,
		Worker: "w", CreationDate: &timestamppb.Timestamp{Seconds: 1_700_000_000, Nanos: 5}, LogsPermission: &protos.Permission{Public: true, AuthorizedIds: []string{"a", "b"}},
		Metadata: map[string]string{"x": "1", "y": strings.Repeat("v", 300)},
		Inputs: []*protos.ComputeTaskInput{
			{Identifier: "data", Ref: &protos.ComputeTaskInput_AssetKey{AssetKey: "s1"}},
			{Identifier: "model", Ref: &protos.ComputeTaskInput_ParentTaskOutput{ParentTaskOutput: &protos.ParentTaskOutputRef{ParentTaskKey: "p", OutputIdentifier: "m"}}},
		},
		Outputs:     map[string]*protos.ComputeTaskOutput{"model": {Permissions: &protos.Permissions{}, Transient: true}},
		FunctionKey: "fn",
	}
	noStatus := proto.Clone(full).(*protos.ComputeTask)
	noStatus.Status = 0
	bare := &protos.ComputeTask{Key: "k2", Status: protos.ComputeTaskStatus_STATUS_DONE}
	onlyHigh := &protos.ComputeTask{FunctionKey: "f"}
	return []*protos.ComputeTask{full, noStatus, bare, onlyHigh, {}}
}

// TestAppendTaskStatus checks that the record with its status rewritten is
// the encoding of the task in that status, for every status and beyond.
func TestAppendTaskStatus(t *testing.T) {
	sts := []protos.ComputeTaskStatus{0, 1, 4, 8, 127, 128, 300, -1}
	for i, task := range codecTasks() {
		rec, err := Marshal(task)
		if err != nil {
			t.Fatal(err)
		}
		v, err := ctViewRecord(rec)
		if err != nil {
			t.Fatalf("task %d: %v", i, err)
		}
		if string(v.plan) != task.GetComputePlanKey() || string(v.worker) != task.GetWorker() ||
			string(v.function) != task.GetFunctionKey() || v.status != task.GetStatus() {
			t.Errorf("task %d: view plan %q worker %q function %q status %v", i, v.plan, v.worker, v.function, v.status)
		}
		for _, st := range sts {
			want := proto.Clone(task).(*protos.ComputeTask)
			want.Status = st
			w, err := Marshal(want)
			if err != nil {
				t.Fatal(err)
			}
			got := ctAppendTask([]byte("prefix"), rec, &v, st)
			if string(got) != "prefix"+string(w) || ctTaskSize(rec, &v, st) != len(w) {
				t.Errorf("task %d in status %d: %x (size %d), want %x", i, st, got[6:], ctTaskSize(rec, &v, st), w)
			}
		}
	}
}

func TestViewRecordMalformed(t *testing.T) {
	rec, err := Marshal(codecTasks()[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]byte{
		rec[:len(rec)-1],        // a field cut short
		{0x2a, 0x05, 'a'},       // plan longer than the record
		{0x40},                  // status tag without value
		{0x40, 0x80},            // unterminated varint
		{0x00},                  // field number 0
		append(rec[:4:4], 0xff), // a bad tag after a good field
	} {
		if _, err := ctViewRecord(bad); err == nil {
			t.Errorf("ctViewRecord(%x) succeeded", bad)
		}
	}
}

func TestParseStatus(t *testing.T) {
	for _, c := range []struct {
		in   string
		want protos.ComputeTaskStatus
		ok   bool
	}{
		{"4", 4, true}, {"0", 0, true}, {"12", 12, true}, {ctStatus(protos.ComputeTaskStatus_STATUS_BUILDING), 8, true},
		{"", 0, false}, {"-1", 0, false}, {"4 ", 0, false}, {"x", 0, false}, {"1234567890", 0, false},
	} {
		got, err := ctParseStatus([]byte(c.in))
		if (err == nil) != c.ok || (c.ok && got != c.want) {
			t.Errorf("ctParseStatus(%q) = %v, %v", c.in, got, err)
		}
	}
}

func TestLastAttr(t *testing.T) {
	for _, c := range []struct {
		key, want string
		ok        bool
	}{
		{joinKey("ct~p~t", "p", "0001", "task"), "task", true},
		{joinKey("ct~t", "x"), "x", true},
		{joinKey("ct~t", "p", ""), "", true},
		{joinKey("ct~t"), "", false},
		{"plain", "", false},
		{"\x00a", "", false},
		{"", "", false},
	} {
		got, ok := ctLastAttr(c.key)
		if got != c.want || ok != c.ok {
			t.Errorf("ctLastAttr(%q) = %q, %v", c.key, got, ok)
		}
	}
}

// TestPageEncoding checks a page written by ctPage against the response
// message marshalled.
func TestPageEncoding(t *testing.T) {
	tasks := codecTasks()
	for _, next := range []string{"", "token", strings.Repeat("t", 200)} {
		var p ctPage
		want := &protos.QueryTasksResponse{NextPageToken: next}
		for i, task := range tasks {
			rec, _ := Marshal(task)
			v, err := ctViewRecord(rec)
			if err != nil {
				t.Fatal(err)
			}
			st := protos.ComputeTaskStatus(i)
			p.add(rec, &v, st)
			w := proto.Clone(task).(*protos.ComputeTask)
			w.Status = st
			want.Tasks = append(want.Tasks, w)
		}
		wb, err := Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.finish(next); string(got) != string(wb) || p.n != len(tasks) {
			t.Errorf("token %q: page %x (%d tasks), want %x", next, got, p.n, wb)
		}
	}
	var empty ctPage
	if got := empty.finish(""); len(got) != 0 {
		t.Errorf("empty page = %x", got)
	}
}

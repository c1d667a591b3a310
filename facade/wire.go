package facade

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// wireRegistrar registers the API's services with unary handlers that send
// a transaction's result to the client in the form the contract encoded
// it, instead of decoding it into the response message and letting gRPC
// encode that again: a page of 100 tasks or 200 events cost the server
// as much in that round trip as in the contract that produced it.
//
// The request is decoded as before (the interceptors see and may change
// it, as the page-size limit does) and the contract still runs, through
// the same Invoker; only the response the interceptors see differs: its
// whole encoding is held as unknown fields, so that it marshals to the
// very bytes of the result (as the event stream sends events), and its
// getters return zero values. The typed methods of the servers (GetTask
// and the others, for in-process callers) still return decoded messages.
type wireRegistrar struct {
	s   grpc.ServiceRegistrar
	inv Invoker
	txs map[string]Transaction // by FullMethod
}

// wire returns a registrar that registers on s the services of the API
// with the handlers of wireRegistrar for the transactions of inv.
func wire(s grpc.ServiceRegistrar, inv Invoker) grpc.ServiceRegistrar {
	txs := map[string]Transaction{}
	for _, tx := range Transactions() {
		txs[tx.FullMethod] = tx
	}
	return &wireRegistrar{s: s, inv: inv, txs: txs}
}

// RegisterService registers impl for desc on the underlying registrar,
// every unary method that runs a transaction with a wire handler. A method
// whose messages the protobuf registry does not know keeps its handler.
func (w *wireRegistrar) RegisterService(desc *grpc.ServiceDesc, impl any) {
	d := *desc
	d.Methods = make([]grpc.MethodDesc, len(desc.Methods))
	copy(d.Methods, desc.Methods)
	sd, _ := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(desc.ServiceName))
	svc, _ := sd.(protoreflect.ServiceDescriptor)
	for i, m := range d.Methods {
		tx, ok := w.txs["/"+desc.ServiceName+"/"+m.MethodName]
		if !ok || svc == nil {
			continue
		}
		md := svc.Methods().ByName(protoreflect.Name(m.MethodName))
		if md == nil {
			continue
		}
		reqT, err1 := protoregistry.GlobalTypes.FindMessageByName(md.Input().FullName())
		respT, err2 := protoregistry.GlobalTypes.FindMessageByName(md.Output().FullName())
		if err1 != nil || err2 != nil {
			continue
		}
		d.Methods[i].Handler = w.handler(tx, impl, reqT, respT)
	}
	w.s.RegisterService(&d, impl)
}

// handler is the unary handler of tx: decode the request, run the
// interceptors, then the transaction (wireCall).
func (w *wireRegistrar) handler(tx Transaction, impl any, reqT, respT protoreflect.MessageType) grpc.MethodHandler {
	run := w.inv.Submit
	if tx.Kind == Evaluate {
		run = w.inv.Evaluate
	}
	info := &grpc.UnaryServerInfo{Server: impl, FullMethod: tx.FullMethod}
	call := func(ctx context.Context, req any) (any, error) {
		m, ok := req.(proto.Message)
		if !ok {
			return nil, StatusError(fmt.Errorf("%s: request %T is no protobuf message", tx.Name, req))
		}
		return wireCall(ctx, run, tx.Name, m, respT)
	}
	return func(_ any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
		req := reqT.New().Interface()
		if err := dec(req); err != nil {
			return nil, err
		}
		if interceptor == nil {
			return call(ctx, req)
		}
		return interceptor(ctx, req, info, call)
	}
}

// wireCall runs tx with req as its argument and returns a message of type
// respT that holds the result as it is (see wireRegistrar). The result is
// checked to be a sequence of well-formed fields, not decoded.
func wireCall(ctx context.Context, run func(context.Context, string, []byte) ([]byte, error), tx string, req proto.Message, respT protoreflect.MessageType) (proto.Message, error) {
	arg, err := proto.Marshal(req)
	if err != nil {
		return nil, StatusError(fmt.Errorf("%s: marshal request: %w", tx, err))
	}
	res, err := run(ctx, tx, arg)
	if err != nil {
		return nil, StatusError(err)
	}
	if err := checkFields(res); err != nil {
		return nil, StatusError(fmt.Errorf("%s: unmarshal result: %w", tx, err))
	}
	resp := respT.New()
	if len(res) > 0 {
		resp.SetUnknown(res)
	}
	return resp.Interface(), nil
}

// checkFields reports whether b is a sequence of well-formed protobuf
// fields (tags, lengths; the contents of embedded messages are not
// looked into): what a client needs to be able to decode the message.
func checkFields(b []byte) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		if num <= 0 {
			return errors.New("invalid field number")
		}
		b = b[n:]
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
	}
	return nil
}

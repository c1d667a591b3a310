package ledger

import (
	"github.com/hyperledger/fabric-chaincode-go/v2/pkg/cid"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
)

// Context is the transaction context of the orchestrator contracts: the
// contract API's context plus the transaction's ledger view, created on
// first use. Contracts declare it with Configure.
type Context struct {
	contractapi.TransactionContext
	tx *Tx
}

// Ledger returns the transaction's ledger view.
func (c *Context) Ledger() *Tx {
	if c.tx == nil {
		c.tx = New(c.GetStub(), "")
	}
	return c.tx
}

// GetClientIdentity returns the client identity of the transaction. A
// context that was given none (the orchestrator chaincode calls its
// transactions without the contract API, which would parse the creator's
// certificate on every call; contracts use Tx.Caller) derives it from the
// creator on first use; nil if the creator cannot be parsed.
func (c *Context) GetClientIdentity() cid.ClientIdentity {
	if ci := c.TransactionContext.GetClientIdentity(); ci != nil {
		return ci
	}
	ci, err := cid.New(c.GetStub())
	if err != nil {
		return nil
	}
	c.SetClientIdentity(ci)
	return ci
}

// holder is what From needs of a transaction context.
type holder interface {
	Ledger() *Tx
}

// From returns the ledger view of the transaction of ctx. Within a contract
// configured with Configure, every call in one transaction returns the same
// *Tx, flushed by AfterTransaction. With any other context it returns a new
// *Tx that nobody flushes: the caller must call Flush.
func From(ctx contractapi.TransactionContextInterface) *Tx {
	if h, ok := ctx.(holder); ok {
		return h.Ledger()
	}
	return New(ctx.GetStub(), "")
}

// AfterTransaction flushes the transaction's ledger view (buffered writes,
// stored events, the chaincode event) after a successful contract function.
// A contract function that fails leaves nothing behind: its transaction is
// rejected, and nothing was written to the stub.
func AfterTransaction(ctx contractapi.TransactionContextInterface) error {
	h, ok := ctx.(holder)
	if !ok {
		return nil
	}
	return h.Ledger().Flush()
}

// Configure makes c use Context as its transaction context and flush the
// ledger view after each successful transaction. Every orchestrator
// contract constructor calls it.
func Configure(c *contractapi.Contract) {
	c.TransactionContextHandler = new(Context)
	c.AfterTransaction = AfterTransaction
}

// IsConfigured reports whether c was set up by Configure.
func IsConfigured(c contractapi.ContractInterface) bool {
	_, ok := c.GetTransactionContextHandler().(*Context)
	return ok && c.GetAfterTransaction() != nil
}

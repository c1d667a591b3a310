package ledger

import (
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

package couchstore_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/fedchain/orchestrator/solo/couchstore"
	"github.com/fedchain/orchestrator/solo/store"
)

// Open a channel on CouchDB and commit a transaction with its event. (No
// output check: it needs a server; see scripts/couchdb/with-couchdb.sh.)
func Example() {
	opener, err := couchstore.NewOpener(os.Getenv("COUCHDB_URL")) // http://user:pass@127.0.0.1:5984
	if err != nil {
		log.Fatal(err)
	}
	defer opener.Close()
	ctx := context.Background()
	st, err := opener.Open(ctx, "mychannel") // database fedchain_mychannel
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	r, err := st.Begin(ctx)
	if err != nil {
		log.Fatal(err)
	}
	kv, err := r.Get(ctx, "asset1")
	r.Close()
	if err != nil {
		log.Fatal(err)
	}
	err = st.Commit(ctx, &store.Batch{
		TxID:   "tx1",
		Reads:  []store.KeyVersion{{Key: "asset1", Version: kv.Version}},
		Writes: []store.Write{{Key: "asset1", Value: []byte(`{"owner":"org1"}`)}},
		Event:  &store.Event{TxID: "tx1", Name: "registered", Payload: []byte("asset1")},
	})
	if err != nil {
		log.Fatal(err) // errors.Is(err, store.ErrConflict): read again and retry
	}
	evs, err := st.ReadEvents(ctx, 0, 10)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(evs), evs[len(evs)-1].Name)
}

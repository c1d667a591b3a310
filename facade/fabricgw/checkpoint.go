package fabricgw

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// checkpointFile is the name of the event checkpoint in Config.StateDir.
const checkpointFile = "event-checkpoint.tsv"

// checkpoint is the durable copy of a Gateway's eventIndex: a file of
// lines "channel TAB event-id TAB block", appended as the Gateway streams
// new events and compacted to the index's size when opened or when it has
// grown to twice that. A restarted facade loads it, so that a subscriber
// resuming after an event it saw before the restart gets a stream starting
// at that event's block at once, not after a search of the chain.
//
// Each block's lines are written with one write(2), without fsync: a
// killed facade loses nothing the kernel took; a machine crash may lose
// the last lines, and then the Gateway finds those events by reading the
// chain, as it does without a checkpoint. A torn last line is skipped.
type checkpoint struct {
	mu    sync.Mutex
	path  string
	f     *os.File
	lines int
}

// openCheckpoint loads the checkpoint in dir into x (creating dir and the
// file when missing), rewrites it compacted, and returns it open for
// appending.
func openCheckpoint(dir string, x *eventIndex) (*checkpoint, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("event checkpoint: %w", err)
	}
	c := &checkpoint{path: filepath.Join(dir, checkpointFile)}
	if err := c.load(x); err != nil {
		return nil, err
	}
	if err := c.compact(x); err != nil {
		return nil, err
	}
	return c, nil
}

// load puts the positions of the file into x, oldest first.
func (c *checkpoint) load(x *eventIndex) error {
	f, err := os.Open(c.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("event checkpoint: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.Split(sc.Text(), "\t")
		if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
			continue
		}
		block, err := strconv.ParseUint(parts[2], 10, 64)
		if err != nil {
			continue
		}
		x.put(parts[0], parts[1], block)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("event checkpoint %s: %w", c.path, err)
	}
	return nil
}

// compact rewrites the file with x's positions (atomically, through a
// temporary file) and reopens it for appending. The caller holds c.mu or
// has not shared c yet.
func (c *checkpoint) compact(x *eventIndex) error {
	tmp := c.path + ".tmp"
	var b strings.Builder
	n := 0
	x.each(func(channel, id string, block uint64) {
		fmt.Fprintf(&b, "%s\t%s\t%d\n", channel, id, block)
		n++
	})
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("event checkpoint: %w", err)
	}
	if err := os.Rename(tmp, c.path); err != nil {
		return fmt.Errorf("event checkpoint: %w", err)
	}
	if c.f != nil {
		c.f.Close()
	}
	f, err := os.OpenFile(c.path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("event checkpoint: %w", err)
	}
	c.f, c.lines = f, n
	return nil
}

// record appends the positions of the events ids, all in block of
// channel; x is the index they were just put into, for compaction.
func (c *checkpoint) record(x *eventIndex, channel string, ids []string, block uint64) error {
	if len(ids) == 0 {
		return nil
	}
	var b strings.Builder
	for _, id := range ids {
		fmt.Fprintf(&b, "%s\t%s\t%d\n", channel, id, block)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.f == nil {
		return errors.New("event checkpoint closed")
	}
	if _, err := c.f.WriteString(b.String()); err != nil {
		return fmt.Errorf("event checkpoint: %w", err)
	}
	c.lines += len(ids)
	if c.lines > 2*eventIndexSize {
		return c.compact(x)
	}
	return nil
}

// close closes the file.
func (c *checkpoint) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.f == nil {
		return nil
	}
	err := c.f.Close()
	c.f = nil
	return err
}

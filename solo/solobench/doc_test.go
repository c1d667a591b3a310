// Package solobench measures the orchestrator chaincode running in-process
// on solo over each store (memory, embedded Pebble with and without fsync),
// with the shapes of the load tool's workload (package loadtest): 50-task
// RegisterTasks batches of chained train tasks, 100-sample
// RegisterDataSamples batches, GetTask, and the task lifecycle
// (EXECUTING, RegisterModels, DONE). It is test-only; run
//
//	go test ./solo/solobench -run XXX -bench . -benchtime 2s -cpuprofile /tmp/cpu.pb
//
// and compare stores and commits with the ratios it reports.
package solobench

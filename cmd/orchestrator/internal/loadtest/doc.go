// Package loadtest drives a realistic federated-learning workload over gRPC
// against any server of the orchestrator API (this project's, in solo or
// fabric mode, or a Substra orchestrator 1.0.0) and measures it.
//
// A run plays two organizations: a data owner (the first of Config.Orgs),
// which registers a data manager and data samples and executes every task,
// and an algorithm owner (the last), which registers train functions,
// compute plans and chains of train tasks (task i trains on the model task
// i-1 outputs), and reports the functions' builds. The phases, in order:
//
//	organizations     RegisterOrganization as each organization
//	functions         RegisterFunction (inputs datasamples, opener, models; output model)
//	data              RegisterDataManager, RegisterDataSamples in batches
//	plans             RegisterPlan
//	tasks             RegisterTasks in batches, a plan's batches in order
//	get-task          GetTask of random tasks
//	query-tasks       QueryTasks page walks, one per plan
//	probes            requests the API must refuse, and the gRPC code of each refusal
//	function-builds   ApplyFunctionAction BUILDING then READY, as the owner
//	task-lifecycle    per task, in chain order: EXECUTING, RegisterModels, DONE
//	query-done-tasks  QueryTasks walks filtered on status DONE
//	query-events      QueryEvents page walks (all events, and per asset kind)
//	subscribe-events  SubscribeToEvents from the start until every event came,
//	                  then again from the middle event (start_event_id)
//
// With Config.BuildBeforeTasks, function-builds comes right after functions:
// the tasks are then registered ready to run instead of waiting for builds.
// Config.Phases runs some phases only, with the phases they need before
// them (tasks needs organizations, functions, data and plans).
//
// Each organization has its own connection, to Config.Addr or to its own
// address (Config.OrgAddrs): on a Fabric network there is one facade per
// organization, and a facade refuses the calls of another organization.
//
// The work of a phase is shared by Config.Concurrency goroutines. Besides
// failed calls, a run checks the answers (statuses, ranks, owners, page walks
// that must find every task, event counts that must add up, a subscription
// that must deliver exactly the events QueryEvents found) and counts every
// failure as an error.
// Every key derives from Config.Seed, so runs with different seeds can share
// a server.
//
// Run reports, for each phase and method, calls, items, rates and latency
// quantiles (nearest rank: exact up to 4096 calls, past that from a
// logarithmic histogram, within about 1.6%; below 100 calls the p99 is the
// slowest call), and the CPU time the process used during each phase (with
// bench --self, the server's and the tool's: the figure to compare binaries
// by on a busy machine), as a table and one JSON line, and fails when any error
// occurred. Every call of a phase counts; Config.WarmUp adds first reads
// of everything as phases of their own, before the read phases, and
// Config.ServerMetrics the servers' own CPU per phase, read from their
// metrics endpoints. A run is bounded: a fixed amount of work, a call
// timeout, an overall deadline and a maximum number of errors.
package loadtest

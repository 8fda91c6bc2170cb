#!/usr/bin/env bats
# Checks of the test helper itself and of the build's conventions.
bats_require_minimum_version 1.5.0

setup() { load helper; cd "$BATS_TEST_TMPDIR"; }
teardown() { kill_servers; }

@test "every tool answers --version with its name and version" {
	shopt -s nullglob
	for t in "$IPC_BIN"/ipc-*; do
		run -0 "$t" --version
		[[ "$output" =~ ^$(basename "$t")\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
	done
}

@test "every tool answers --help on stdout with status 0" {
	shopt -s nullglob
	for t in "$IPC_BIN"/ipc-*; do
		run -0 --separate-stderr "$t" --help
		[[ "$output" == *"$(basename "$t")"* ]]
		[ -z "$stderr" ]
	done
}

@test "every tool rejects an unknown option with status 2" {
	shopt -s nullglob
	for t in "$IPC_BIN"/ipc-*; do
		run -2 --separate-stderr "$t" --no-such-option
		[[ "$stderr" == *"usage:"* ]]
	done
}

@test "every tool has a man page that renders" {
	shopt -s nullglob
	for t in "$IPC_BIN"/ipc-*; do
		n=$(basename "$t")
		[ -f "$BATS_TEST_DIRNAME/../build/man/$n.1" ]
		run -0 man -l "$BATS_TEST_DIRNAME/../build/man/$n.1"
		[[ "$output" == *"EXIT STATUS"* ]]
	done
}

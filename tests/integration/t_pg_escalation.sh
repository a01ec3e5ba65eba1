#!/usr/bin/env bash
# t_escalation on the PostgreSQL store, one node: the same script, with lib.sh
# starting a throwaway PostgreSQL 15 for it (PG_STORE=1; t_store_pg.sh), or in
# a schema of its own on the cluster `make test` shares (tests/run.sh).
PG_STORE=1 PG_STORE_DSN=${PG_SHARED_DSN:-} exec bash "$(dirname "$0")/t_escalation.sh"

#!/usr/bin/env node
import { runPending } from '../../shared/cli/pending.ts';

runPending('cairn-discovery', 'the peer discovery service', 7);

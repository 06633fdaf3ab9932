#!/usr/bin/env node
import { runPending } from '../../shared/cli/pending.ts';

runPending('cairn-recorder', 'the standalone miner', 5);

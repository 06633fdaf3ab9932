#!/usr/bin/env node
import { runPending } from '../../shared/cli/pending.ts';

runPending('cairn', 'the command-line client and wallet', 6);

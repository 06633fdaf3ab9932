#!/usr/bin/env node
import { runPending } from '../../shared/cli/pending.ts';

runPending('cairnd', 'the node daemon', 4);

/** The insight commands: why, du, doctor. */
import type { Command } from 'commander';

export function registerInsightCommands(_program: Command): void {}

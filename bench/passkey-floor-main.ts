/** The passkey floor as its own process: prints nothing, serves on PORT, keeps its SQLite file in DATA_DIR. */
import { startPasskeyFloor } from './passkey-floor.ts';

await startPasskeyFloor(process.env.REDIRECT_URI!, Number(process.env.PORT), process.env.CLIENT_SECRET!, process.env.DATA_DIR!);
// Exit on SIGTERM through process.exit so --cpu-prof (BENCH_SERVER_FLAGS) writes its profile.
process.on('SIGTERM', () => process.exit(0));

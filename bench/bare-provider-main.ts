/** The bare oidc-provider floor as its own process: prints nothing, serves on PORT. */
import { startBareProvider } from './bare-provider.ts';

await startBareProvider(process.env.REDIRECT_URI!, Number(process.env.PORT), process.env.CLIENT_SECRET);
// Exit on SIGTERM through process.exit so --cpu-prof (BENCH_SERVER_FLAGS) writes its profile.
process.on('SIGTERM', () => process.exit(0));

// The app's build: quick, unless a `hang-build` file exists; then it hangs with a child of its own (a build
// timeout must stop both). It writes its and its child's pids to build.pids.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';

if (fs.existsSync('hang-build')) {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  fs.writeFileSync('build.pids', `${process.pid} ${child.pid}\n`);
  setInterval(() => undefined, 1000);
} else {
  console.log('built');
}

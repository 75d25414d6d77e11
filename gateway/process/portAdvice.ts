// What to tell a user whose worker listens on another port than $PORT: the port it used and the fix in the
// app's own language, told from the listening process's command (and the start command, for compiled apps).
import { describeProcess, formatListener, type Holder, type Listener } from './ports';

const ADVICE: [RegExp, string][] = [
  [/^(node|nodejs|bun|deno)\b/, 'e.g. app.listen(process.env.PORT)'],
  [
    /python|gunicorn|uvicorn|flask|hypercorn|waitress/,
    'e.g. port=int(os.environ["PORT"]), or in "start": flask --app app run --port $PORT, ' +
      'uvicorn main:app --port $PORT, python manage.py runserver 127.0.0.1:$PORT',
  ],
  [
    /ruby|puma|rails|rackup|unicorn/,
    'e.g. "start": "bin/rails server -p $PORT", or port ENV["PORT"] in config/puma.rb',
  ],
  [/php/, 'e.g. "start": "php -S 127.0.0.1:$PORT"'],
  [/java/, 'e.g. -Dserver.port=$PORT in "start"'],
  [/\bgo\b/, 'e.g. http.ListenAndServe("127.0.0.1:"+os.Getenv("PORT"), handler)'],
];

/** "the app listens on 127.0.0.1:3000, not on $PORT (41234). Make it use the PORT environment variable, e.g. …" */
export function wrongPortMessage(found: Listener[], port: number, start: string): string {
  const where = [...new Set(found.map(formatListener))].join(', ');
  const main = found[0];
  const advice =
    ADVICE.find(([pattern]) => pattern.test(main.command))?.[1] ??
    ADVICE.find(([pattern]) => pattern.test(start))?.[1] ??
    'e.g. pass $PORT in "start", or read PORT from the environment';
  return `the app listens on ${where}, not on $PORT (${port}). Make it use the PORT environment variable, ${advice}`;
}

/**
 * "another process (pid 1234 `nc`, user nobody) listens on [::1]:41234, the worker's $PORT: …". Baton serves
 * only a socket of the worker's own processes, so a socket that anyone else bound first fails the generation.
 */
export function foreignPortMessage(holder: Holder): string {
  return (
    `${describeProcess(holder)} listens on ${formatListener(holder)}, the worker's $PORT: ` +
    `Baton serves only a socket the worker's own processes listen on. Stop that process, then deploy again`
  );
}

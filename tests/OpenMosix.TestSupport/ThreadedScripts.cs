namespace OpenMosix.TestSupport;

/// <summary>
/// Small multithreaded programs for interpreters and VMs, used by the checkpoint and migration tests of threaded
/// processes (issue #14). Each takes ROUNDS and a pause in ms, lets its worker threads compute in lock step with the
/// main thread, and prints one "round N ..." line per round: the output depends on nothing but the arguments.
/// </summary>
public static class ThreadedScripts
{
    /// <summary>python3 -c SCRIPT ROUNDS MS: three threads, each chaining SHA-256 over its own state.</summary>
    public const string Python = """
        import hashlib, sys, threading, time
        rounds, pause = int(sys.argv[1]), int(sys.argv[2]) / 1000
        go = [threading.Semaphore(0) for _ in range(3)]
        done = threading.Semaphore(0)
        digests = [''] * 3
        def work(k):
            h = hashlib.sha256(b'thread %d' % k)
            for r in range(rounds):
                go[k].acquire()
                for _ in range(3000):
                    h.update(h.digest())
                digests[k] = h.hexdigest()[:12]
                done.release()
        threads = [threading.Thread(target=work, args=(k,), name='hasher-%d' % k) for k in range(3)]
        for t in threads:
            t.start()
        for r in range(1, rounds + 1):
            time.sleep(pause)
            for g in go:
                g.release()
            for _ in go:
                done.acquire()
            print('round', r, *digests, flush=True)
        for t in threads:
            t.join()
        print('done', flush=True)
        """;

    /// <summary>node FILE ROUNDS MS: timers on the main thread, and a worker thread that computes on request.</summary>
    public const string Node = """
        const { Worker } = require('worker_threads');
        const crypto = require('crypto');
        const rounds = Number(process.argv[2]);
        const pause = Number(process.argv[3]);
        const worker = new Worker(`
          const { parentPort } = require('worker_threads');
          const crypto = require('crypto');
          let h = 'worker';
          parentPort.on('message', (r) => {
            for (let i = 0; i < 500; i++) h = crypto.createHash('sha256').update(h + r).digest('hex');
            parentPort.postMessage(h.slice(0, 12));
          });
        `, { eval: true });
        let main = 'main';
        let round = 0;
        function tick() {
          round++;
          for (let i = 0; i < 500; i++) main = crypto.createHash('sha256').update(main + round).digest('hex');
          worker.once('message', (fromWorker) => {
            console.log(`round ${round} ${main.slice(0, 12)} ${fromWorker}`);
            if (round < rounds) setTimeout(tick, pause);
            else worker.terminate().then(() => console.log('done'));
          });
          worker.postMessage(round);
        }
        setTimeout(tick, pause);
        """;

    /// <summary>java Rounds ROUNDS MS: three worker threads started in lock step with semaphores.</summary>
    public const string Java = """
        import java.util.concurrent.Semaphore;

        public class Rounds {
            public static void main(String[] args) throws Exception {
                int rounds = Integer.parseInt(args[0]);
                long pause = Long.parseLong(args[1]);
                int workers = 3;
                long[] sums = new long[workers];
                Semaphore[] go = new Semaphore[workers];
                Semaphore done = new Semaphore(0);
                Thread[] threads = new Thread[workers];
                for (int k = 0; k < workers; k++) {
                    final int id = k;
                    go[k] = new Semaphore(0);
                    sums[k] = 1469598103934665603L + k;
                    threads[k] = new Thread(() -> {
                        for (int r = 1; r <= rounds; r++) {
                            go[id].acquireUninterruptibly();
                            long s = sums[id];
                            for (int i = 0; i < 200000; i++) s = (s ^ (r * 1000003L + i)) * 1099511628211L;
                            sums[id] = s;
                            done.release();
                        }
                    }, "worker-" + k);
                    threads[k].start();
                }
                for (int r = 1; r <= rounds; r++) {
                    Thread.sleep(pause);
                    for (Semaphore s : go) s.release();
                    done.acquireUninterruptibly(workers);
                    StringBuilder line = new StringBuilder("round " + r);
                    for (long s : sums) line.append(' ').append(Long.toHexString(s));
                    System.out.println(line);
                }
                for (Thread t : threads) t.join();
                System.out.println("done");
            }
        }
        """;
    /// <summary>A .NET console program (dotnet Rounds.dll ROUNDS MS): each round, four thread-pool tasks hash their
    /// own buffer; the runtime adds its own threads (GC, tiered JIT, finalizer, timers).</summary>
    public const string DotnetProgram = """
        using System.Security.Cryptography;

        var rounds = int.Parse(args[0]);
        var pause = int.Parse(args[1]);
        for (var round = 1; round <= rounds; round++)
        {
            var sums = await Task.WhenAll(Enumerable.Range(0, 4).Select(worker => Task.Run(() =>
            {
                var data = new byte[1 << 16];
                for (var i = 0; i < data.Length; i++) data[i] = (byte)(i * (worker + 1) + round);
                for (var i = 0; i < 100; i++) data = SHA256.HashData(data);
                return Convert.ToHexString(data)[..16];
            })));
            Console.WriteLine($"round {round} {string.Join(' ', sums)}");
            await Task.Delay(pause);
        }
        Console.WriteLine("done");
        """;

    /// <summary>The project file for <see cref="DotnetProgram"/>: a plain console program, no packages to restore.</summary>
    public const string DotnetProject = """
        <Project Sdk="Microsoft.NET.Sdk">
          <PropertyGroup>
            <OutputType>Exe</OutputType>
            <TargetFramework>net10.0</TargetFramework>
            <ImplicitUsings>enable</ImplicitUsings>
            <AssemblyName>Rounds</AssemblyName>
          </PropertyGroup>
        </Project>
        """;
}

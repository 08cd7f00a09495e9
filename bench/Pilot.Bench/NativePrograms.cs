using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Pilot.Bench;

/// <summary>
/// Small C programs the bench compiles for this machine, once, with the system's C compiler: libc-free on x86-64, so
/// nothing (no dynamic loader, no libc start-up) runs before their first instruction.
/// </summary>
internal static class NativePrograms
{
    private static readonly Lock Gate = new();
    private static readonly Dictionary<string, string> Compiled = [];

    /// <summary>
    /// <c>bench/Pilot.Bench/Native/stamp.c</c>: a job that writes the wall clock to a file as the first and last thing
    /// it does, so the exit → exec figures time the supervisor and not a shell's start-up.
    /// </summary>
    public static string Stamp(Scratch scratch) => Compile(scratch, "bench/Pilot.Bench/Native/stamp.c", libcFallback: true);

    /// <summary>
    /// Pilot's in-memory exec shim (<c>src/Pilot.Supervisor/Processes/Native/exec-shim.c</c>) as a file, to time it
    /// the way <c>pilot __exec</c> is timed; null off x86-64, where Pilot has none.
    /// </summary>
    public static string? ExecShim(Scratch scratch) => RuntimeInformation.ProcessArchitecture == Architecture.X64
        ? Compile(scratch, "src/Pilot.Supervisor/Processes/Native/exec-shim.c", libcFallback: false)
        : null;

    private static string Compile(Scratch scratch, string source, bool libcFallback)
    {
        lock (Gate)
        {
            if (Compiled.TryGetValue(source, out var done))
            {
                return done;
            }
            var output = scratch.File(Path.GetFileNameWithoutExtension(source));
            var path = Path.Combine(Checkout.Root, source);
            string[] flags = RuntimeInformation.ProcessArchitecture == Architecture.X64 || !libcFallback
                ? ["-O2", "-static", "-nostdlib", "-fno-stack-protector", "-fno-builtin"]
                : ["-O2"];
            var info = new ProcessStartInfo("cc") { UseShellExecute = false, RedirectStandardError = true };
            foreach (var argument in (string[])[.. flags, "-o", output, path])
            {
                info.ArgumentList.Add(argument);
            }
            using var compiler = Process.Start(info)!;
            var errors = compiler.StandardError.ReadToEnd();
            compiler.WaitForExit();
            if (compiler.ExitCode != 0)
            {
                throw new InvalidOperationException($"cc could not compile {path}: {errors}");
            }
            return Compiled[source] = output;
        }
    }
}

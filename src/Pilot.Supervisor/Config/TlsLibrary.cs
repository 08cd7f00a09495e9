using System.Runtime.InteropServices;

namespace Pilot.Supervisor.Config;

/// <summary>
/// Whether HTTPS can work. .NET does TLS with OpenSSL's libssl, loaded at run time; when it cannot load one, the runtime
/// aborts the process at the first TLS connection ("No usable version of libssl was found"). So an <c>https</c> Consul
/// address or health check is refused when the config is loaded (start, reload, <c>-validate</c>) if there is no TLS.
/// The shipped Pilot is a static glibc binary, and it has none: loading libssl there means glibc's dlopen bringing a
/// second, shared libc into the process, which was measured to crash (SIGSEGV at the first TLS connection, or at exit
/// after a successful one) and to fail OpenSSL's initialisation; in a musl or scratch image there is no libssl at all.
/// </summary>
public static class TlsLibrary
{
    /// <summary>Set by the static build (Pilot.Api.csproj).</summary>
    public const string StaticSwitch = "Pilot.StaticExecutable";

    private static readonly string[] LibsslNames = ["libssl.so.3", "libssl.so.1.1", "libssl.so.1.0.2", "libssl.so.1.0.0", "libssl.so.10"];

    private static readonly Lazy<string?> Probe = new(WhyUnavailable);

    /// <summary>Null when libssl can be loaded; otherwise why not, from the user's side.</summary>
    public static string? Unavailable => Probe.Value;

    private static string? WhyUnavailable()
    {
        if (AppContext.TryGetSwitch(StaticSwitch, out var isStatic) && isStatic)
        {
            return "this Pilot is the static binary, which has no TLS library (it cannot load OpenSSL safely): use http";
        }
        foreach (var name in LibsslNames)
        {
            if (NativeLibrary.TryLoad(name, out _))
            {
                // Left loaded: the runtime loads the same library when it first needs TLS.
                return null;
            }
        }
        return $"no OpenSSL libssl ({string.Join(", ", LibsslNames.Take(2))}) can be loaded here: install it (Debian, Ubuntu: libssl3) or use http";
    }
}

using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Pilot.Api.Tests.Support;
using Shouldly;

namespace Pilot.Api.Tests.Supervision;

/// <summary>
/// An https health check: under the JIT build (libssl3 on this machine) it passes against a TLS server; the shipped
/// static binary has no TLS and refuses the config at start, naming the field (Config/TlsLibrary.cs).
/// </summary>
public sealed class HttpsHealthCheckTests
{
    private const int SIGTERM = 15;

    [Fact]
    public async Task HttpsHealthCheck_PassesOverTls_OrIsRefusedByTheStaticBinary()
    {
        using var timeout = PilotProcess.Timeout();
        using var certificate = SelfSigned();
        var trust = Path.Combine(Directory.CreateTempSubdirectory("pilot-tls-").FullName, "ca.pem");
        await File.WriteAllTextAsync(trust, certificate.ExportCertificatePem(), timeout.Token);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var serving = ServeAsync(listener, certificate, timeout.Token);
        await using var pilot = RunningPilot.Start($$"""
            {
              control: { socket: "SOCKET" },
              jobs: [
                { name: "web", exec: ["sleep", "600"], health: { http: "https://127.0.0.1:{{port}}/health", interval: 1, ttl: 5 } },
                { name: "after", exec: ["echo", "web-healthy-over-tls"], when: { source: "web", once: "healthy" } },
              ],
            }
            """, environment: new Dictionary<string, string> { ["SSL_CERT_FILE"] = trust });

        if (Images.StaticElf.Interpreter(Checkout.PilotBinary()) is null)
        {
            (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(1, pilot.Output);
            pilot.Output.ShouldContain($"job[web].health.http 'https://127.0.0.1:{port}/health' needs TLS, and this Pilot is the static binary");
        }
        else
        {
            await pilot.WaitForLineAsync("web-healthy-over-tls", timeout.Token);
            pilot.Signal(SIGTERM);
            (await pilot.WaitForExitAsync(timeout.Token)).ShouldBe(0, pilot.Output);
        }
        listener.Stop();
        await serving;
        File.Delete(trust);
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), null);
    }

    /// <summary>Answers every request 200 over TLS, one connection at a time, until the listener stops.</summary>
    private static async Task ServeAsync(TcpListener listener, X509Certificate2 certificate, CancellationToken cancellationToken)
    {
        while (true)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                return;
            }
            using (client)
            {
                try
                {
                    await using var tls = new SslStream(client.GetStream());
                    await tls.AuthenticateAsServerAsync(certificate);
                    using var reader = new StreamReader(tls, leaveOpen: true);
                    while (await reader.ReadLineAsync(cancellationToken) is { Length: > 0 })
                    {
                    }
                    await tls.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"), cancellationToken);
                }
                catch (Exception ex) when (ex is IOException or System.Security.Authentication.AuthenticationException)
                {
                    // A check that gave up mid-handshake: the next one connects again.
                }
            }
        }
    }
}

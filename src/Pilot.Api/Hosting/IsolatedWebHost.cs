using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Pilot.Api.Hosting;

/// <summary>
/// The web host of the control plane's description (<see cref="Pilot.Api.Control.ControlPlaneDocumentation"/>, which only
/// tests run; Pilot's own listeners use <see cref="KestrelHost"/>), taking nothing from the container it runs in. The default builders read
/// <c>appsettings*.json</c> from the working directory with a recursive file watcher on it (with the working directory
/// at <c>/</c>, Pilot as PID 1 would watch the whole file system) and would bind any <c>Kestrel:Endpoints</c> the
/// application's own config declares; they also take <c>ASPNETCORE_*</c> configuration meant for the application.
/// </summary>
internal static class IsolatedWebHost
{
    public static WebApplicationBuilder CreateBuilder(string? environmentName = null)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            Args = [],
            EnvironmentName = environmentName ?? EnvironmentFromVariables(),
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.WebHost.UseKestrelCore();
        builder.Services.AddRoutingCore();
        return builder;
    }

    /// <summary>The usual variables still choose the environment (Swagger UI is served in Development).</summary>
    public static string EnvironmentFromVariables() =>
        Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT") is { Length: > 0 } dotnet ? dotnet
        : Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT") is { Length: > 0 } aspnet ? aspnet
        : Environments.Production;
}

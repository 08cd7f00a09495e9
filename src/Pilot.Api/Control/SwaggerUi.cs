using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;
using Swashbuckle.AspNetCore.SwaggerUI;

namespace Pilot.Api.Control;

/// <summary>
/// Swagger UI over the control plane's OpenAPI document, built only when asked for (the Development environment):
/// Swashbuckle's middleware on a pipeline of its own, given the two services it asks for.
/// </summary>
internal static class SwaggerUi
{
    /// <summary>Why the static binary serves no Swagger UI: Swashbuckle hashes its page with OpenSSL, which it cannot load.</summary>
    public const string NotInStaticBinary =
        "Swagger UI is not in the static pilot binary (it needs OpenSSL, which a static binary cannot load); run Pilot from source (dotnet run --project src/Pilot.Api) for it";

    public static RequestDelegate Create(ILoggerFactory loggers, string environmentName, RequestDelegate notFound)
    {
        if (AppContext.TryGetSwitch(Supervisor.Config.TlsLibrary.StaticSwitch, out var isStatic) && isStatic)
        {
            // Loading OpenSSL there crashed Pilot or failed (README "Use Pilot in your image"); the rest of the dev
            // listener works.
            return context => context.Request.Path.StartsWithSegments("/swagger", StringComparison.OrdinalIgnoreCase)
                ? Problems.WriteAsync(context, StatusCodes.Status501NotImplemented, NotInStaticBinary)
                : notFound(context);
        }
        var options = new SwaggerUIOptions();
        options.SwaggerEndpoint($"/openapi/{OpenApiDocument.DocumentName}.json", "Pilot control plane v3");
        var services = new MiddlewareServices(new UiEnvironment(environmentName), loggers);
        var pipeline = new ApplicationBuilder(services);
        pipeline.UseSwaggerUI(options);
        pipeline.Run(notFound);
        return pipeline.Build();
    }

    private sealed class MiddlewareServices(IWebHostEnvironment environment, ILoggerFactory loggers) : IServiceProvider
    {
        public object? GetService(Type serviceType) =>
            serviceType == typeof(IWebHostEnvironment) ? environment
            : serviceType == typeof(ILoggerFactory) ? loggers
            : null;
    }

    /// <summary>The UI's files are embedded in Swashbuckle; there is no web root.</summary>
    private sealed class UiEnvironment(string environmentName) : IWebHostEnvironment
    {
        public string EnvironmentName { get; set; } = environmentName;
        public string ApplicationName { get; set; } = "pilot";
        public string ContentRootPath { get; set; } = AppContext.BaseDirectory;
        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
        public string WebRootPath { get; set; } = AppContext.BaseDirectory;
        public IFileProvider WebRootFileProvider { get; set; } = new NullFileProvider();
    }
}

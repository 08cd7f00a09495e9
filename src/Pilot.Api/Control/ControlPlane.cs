using FluentValidation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pilot.Api.Hosting;
using Pilot.Api.V3;

namespace Pilot.Api.Control;

/// <summary>
/// The HTTP control plane: Kestrel on the Unix socket only, the v3 routes, the OpenAPI document.
/// Used by the <c>pilot</c> run path and, with a fake <see cref="Pilot.Supervisor.Control.ISupervisorControl"/>, by tests:
/// <code>
/// using var listener = ControlListener.Bind(config.Control);
/// var builder = ControlPlane.CreateBuilder(listener);
/// builder.Services.AddSingleton&lt;ISupervisorControl&gt;(fake);
/// var app = builder.Build().MapControlPlane();
/// await app.StartAsync(ct);
/// </code>
/// </summary>
public static class ControlPlane
{
    public const int MaxRequestBodyBytes = 64 * 1024;
    /// <summary>The host name clients put in their requests (v3's client uses it too).</summary>
    public const string HostName = "control";

    /// <summary>A slim web application builder serving the already bound <paramref name="listener"/> and nothing else.</summary>
    public static WebApplicationBuilder CreateBuilder(ControlListener listener, string? environmentName = null)
    {
        var builder = IsolatedWebHost.CreateBuilder(environmentName);
        builder.AddControlPlane(listener);
        return builder;
    }

    public static WebApplicationBuilder AddControlPlane(this WebApplicationBuilder builder, ControlListener listener)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(listener);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // Explicit endpoints replace ASPNETCORE_URLS / HTTP_PORTS: there is no TCP listener.
            kestrel.ListenHandle(listener.KestrelHandle);
            kestrel.Limits.MaxRequestBodySize = MaxRequestBodyBytes;
            kestrel.AddServerHeader = false;
        });
        // Kestrel and routing chatter would interleave with Pilot's own log format.
        builder.Logging.AddFilter("Microsoft", Microsoft.Extensions.Logging.LogLevel.Warning);
        builder.Services.AddControlPlaneServices();
        return builder;
    }

    /// <summary>Everything the endpoints need except <see cref="Pilot.Supervisor.Control.ISupervisorControl"/>.</summary>
    public static IServiceCollection AddControlPlaneServices(this IServiceCollection services)
    {
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, PilotApiJsonContext.Default));
        services.AddRouting();
        services.TryAddSingleton<IValidator<EnvironmentBody>, EnvironmentBodyValidator>();
        services.TryAddSingleton<IValidator<MetricBody>, MetricBodyValidator>();
        services.TryAddSingleton<ControlRequestCounter>();
        services.TryAddSingleton<IControlRequestObserver>(sp => sp.GetRequiredService<ControlRequestCounter>());
        services.AddPilotOpenApi();
        return services;
    }

    /// <summary>Middleware and routes: problem bodies for every failure, request counting, v3 routes, OpenAPI, Swagger UI in Development.</summary>
    public static WebApplication MapControlPlane(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var observer = app.Services.GetRequiredService<IControlRequestObserver>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Pilot.Api.Control");
        app.Use(async (context, next) =>
        {
            try
            {
                await next(context).ConfigureAwait(false);
            }
            catch (Exception ex) when (!context.RequestAborted.IsCancellationRequested && !context.Response.HasStarted)
            {
                logger.LogError(ex, "control plane: {Method} {Path} failed", context.Request.Method, context.Request.Path);
                context.Response.Clear();
                await Problems.WriteAsync(context, StatusCodes.Status500InternalServerError, ex.Message).ConfigureAwait(false);
            }
            finally
            {
                // v3 counts every reply except a 404 for an unknown path; a route template keeps labels bounded.
                var endpoint = context.GetEndpoint();
                if (endpoint is not null || context.Response.StatusCode != StatusCodes.Status404NotFound)
                {
                    var path = (endpoint as RouteEndpoint)?.RoutePattern.RawText ?? context.Request.Path.Value ?? "";
                    observer.RequestCompleted(context.Response.StatusCode, path);
                }
            }
        });
        // 404 (unknown path) and 405 (wrong method, with its Allow header) get a problem body too.
        app.UseStatusCodePages(static context =>
        {
            var http = context.HttpContext;
            var detail = http.Response.StatusCode switch
            {
                StatusCodes.Status404NotFound => $"no route for {http.Request.Path}",
                StatusCodes.Status405MethodNotAllowed => $"{http.Request.Method} is not allowed on {http.Request.Path}",
                _ => null,
            };
            return Problems.WriteAsync(http, http.Response.StatusCode, detail);
        });

        app.MapV3Endpoints();
        app.MapOpenApi(OpenApiSetup.DocumentPath);
        if (app.Environment.IsDevelopment())
        {
            app.UseSwaggerUI(o => o.SwaggerEndpoint($"/openapi/{OpenApiSetup.DocumentName}.json", "Pilot control plane v3"));
        }
        return app;
    }

}

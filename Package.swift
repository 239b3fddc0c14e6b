// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "relplan",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "relplan", targets: ["relplan"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.0.0"),
        // SHA-256 of imported files (no CryptoKit on Linux).
        .package(url: "https://github.com/apple/swift-crypto", from: "3.0.0"),
        // `relplan serve`: HTTP on SwiftNIO, graceful shutdown on SIGTERM.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        // `GET /metrics` in Prometheus's text format.
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        // partitioningIndex for Scheduling's sorted-array searches.
        .package(url: "https://github.com/apple/swift-algorithms", from: "1.2.0"),
    ],
    targets: [
        // libpq, found through pkg-config; the only C in the package.
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"]), .brew(["libpq"])]
        ),
        // A safe Swift layer over libpq that knows nothing of releases.
        .target(
            name: "Postgres",
            dependencies: ["CLibPQ", .product(name: "Logging", package: "swift-log")]
        ),
        // Pure domain: types, validation, recurrence rules, lifecycle. Foundation only.
        .target(name: "ReleaseCore"),
        // Pure conflict detection and resolution, in ReleaseCore's vocabulary. No I/O: Foundation
        // and swift-algorithms only.
        .target(
            name: "Scheduling",
            dependencies: [
                "ReleaseCore",
                .product(name: "Algorithms", package: "swift-algorithms"),
            ]
        ),
        // Repositories and migrations: the only module that speaks SQL. It depends on Scheduling
        // because Scheduling's `Conflict`, `Proposal` and `Resolution` are what it stores and the
        // snapshot is what it loads; they stay in Scheduling (they carry its `Interval` and
        // `TimedText`), so the arrow says it.
        .target(
            name: "ReleaseStore",
            dependencies: ["Postgres", "ReleaseCore", "Scheduling", .product(name: "Logging", package: "swift-log")],
            plugins: ["EmbedMigrations"]
        ),
        // Files people write: CSV exports, YAML mappings and release models.
        .target(
            name: "Importing",
            dependencies: ["Postgres", "ReleaseCore", "ReleaseStore", "Scheduling", "Yams"]
        ),
        // Conflicts and plans rendered as text, JSON, CSV, Markdown, HTML and iCalendar. It depends
        // on Scheduling for the same reason as ReleaseStore: the conflicts and proposals it renders
        // are Scheduling's types (it runs no detection or resolution).
        .target(
            name: "Reporting",
            dependencies: [
                "ReleaseCore", "Scheduling",
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            exclude: ["Templates"],
            plugins: ["EmbedMigrations"]
        ),
        // The use cases the CLI and the server share, as types with inputs and typed results:
        // opening a connection, the import run, the nightly job, the JSON shapes and error classes.
        .target(
            name: "Planning",
            dependencies: ["Postgres", "ReleaseCore", "ReleaseStore", "Scheduling", "Reporting", "Importing",
                           .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "Logging", package: "swift-log")]
        ),
        // `relplan serve`: the HTTP API, the pages and the calendar feeds, each request as the person's own login.
        .target(
            name: "RelplanServer",
            dependencies: [
                "Postgres", "ReleaseCore", "ReleaseStore", "Scheduling", "Importing", "Reporting", "Planning",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            exclude: ["Assets"],
            plugins: ["EmbedMigrations"]
        ),
        .executableTarget(
            name: "relplan",
            dependencies: [
                "ReleaseCore", "Scheduling", "Importing", "Reporting", "Planning", "RelplanServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // In-process benchmarks, run by scripts/bench in release mode.
        // Build-time tool and plugin that compile sql/*.sql into ReleaseStore.
        .executableTarget(name: "embed-sql"),
        .plugin(name: "EmbedMigrations", capability: .buildTool(), dependencies: ["embed-sql"]),
        .executableTarget(name: "relplan-bench", dependencies: ["Scheduling", "Postgres", "ReleaseCore", "ReleaseStore"]),
        .testTarget(name: "ReleaseCoreTests", dependencies: ["ReleaseCore"]),
        .testTarget(name: "SchedulingTests", dependencies: ["Scheduling", "ReleaseCore", "SeededRandom"]),
        .testTarget(
            name: "ReportingTests",
            dependencies: ["Reporting", "Scheduling", "TestSupport", .product(name: "Mustache", package: "swift-mustache")]
        ),
        // The tests' one seeded generator; pure, so the pure suites use it without a database.
        .target(name: "SeededRandom", path: "Tests/SeededRandom"),
        .target(name: "TestSupport", dependencies: ["Postgres", "ReleaseStore"], path: "Tests/Support"),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "TestSupport"]),
        .testTarget(name: "ReleaseStoreTests", dependencies: ["ReleaseStore", "Postgres", "ReleaseCore", "Scheduling", "TestSupport", "SeededRandom"]),
        .testTarget(name: "ImportingTests", dependencies: ["Importing", "ReleaseStore", "Postgres", "ReleaseCore", "TestSupport", "SeededRandom"]),
        .testTarget(name: "PlanningTests", dependencies: ["Planning", "Importing", "ReleaseStore", "ReleaseCore", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["Postgres", "TestSupport"]),
        .testTarget(name: "ServerTests", dependencies: ["Postgres", "TestSupport"], exclude: ["browser"]),
    ],
    swiftLanguageModes: [.v6]
)

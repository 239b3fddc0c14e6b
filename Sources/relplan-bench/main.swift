// In-process benchmarks for scripts/bench. Each prints one JSON object of figures on stdout.
//   relplan-bench scheduling [--quick]                 detection and resolution on generated snapshots
//   relplan-bench seed --releases N --database-url U   writes a generated portfolio into an empty, migrated database
//   relplan-bench confirm --database-url U [--clients 8] [--seconds 5] [--path product|statement]
//                                                       booking confirmations per second
import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())

func option(_ name: String) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

func emit(_ figures: [String: Double]) {
    let body = figures.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ")
    print("{\(body)}")
}

do {
    switch arguments.first {
    case "scheduling":
        emit(SchedulingBench.run(quick: arguments.contains("--quick")))
    case "seed":
        let releases = Int(option("--releases") ?? "100000") ?? 100_000
        emit(try DatabaseSeed.run(conninfo: option("--database-url") ?? "", releases: releases))
    case "confirm":
        guard let path = ConfirmBench.Path(rawValue: option("--path") ?? "product") else {
            FileHandle.standardError.write(Data("relplan-bench confirm: --path is product or statement\n".utf8))
            exit(64)
        }
        emit(try ConfirmBench.run(conninfo: option("--database-url") ?? "", clients: Int(option("--clients") ?? "8") ?? 8,
                                  seconds: Double(option("--seconds") ?? "5") ?? 5, path: path))
    default:
        FileHandle.standardError.write(Data("usage: relplan-bench scheduling|seed|confirm …\n".utf8))
        exit(64)
    }
} catch {
    FileHandle.standardError.write(Data("relplan-bench: \(error)\n".utf8))
    exit(1)
}

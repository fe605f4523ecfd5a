import ArgumentParser
SessionTop.main()

rootProject.name = "hmpps-template-kotlin"
